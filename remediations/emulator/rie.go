package emulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RIE runs a Lambda bootstrap under the AWS Lambda Runtime Interface
// Emulator (github.com/aws/aws-lambda-runtime-interface-emulator, pinned in
// go.mod as a tool), in the mode that reports the function's
// initialization as Lambda does, with an "INIT REPORT" line. That mode runs
// a ZIP function's bootstrap from /var/task, as Lambda does, so the
// bootstrap is copied there.
type RIE struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
}

// TaskDir is where the RIE looks for a ZIP function's bootstrap.
const TaskDir = "/var/task"

// StartRIE starts the emulator (rie, a built aws-lambda-rie binary) with the
// bootstrap and exactly the environment given (plus what Lambda itself
// sets), and waits for its INIT REPORT.
func StartRIE(ctx context.Context, rie, bootstrap string, env map[string]string) (*RIE, error) {
	if err := os.MkdirAll(TaskDir, 0o755); err != nil {
		return nil, fmt.Errorf("rie: %s: %w (the emulator runs bootstraps from there)", TaskDir, err)
	}
	b, err := os.ReadFile(bootstrap)
	if err != nil {
		return nil, fmt.Errorf("rie: %w", err)
	}
	if err := os.WriteFile(filepath.Join(TaskDir, "bootstrap"), b, 0o755); err != nil {
		return nil, fmt.Errorf("rie: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("rie: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	r := &RIE{addr: addr}
	r.cmd = exec.Command(rie, "--runtime-interface-emulator-address", addr)
	r.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_MAX_CONCURRENCY=1", "AWS_LAMBDA_FUNCTION_TIMEOUT=60", "LOG_LEVEL=debug"} // the INIT REPORT line is logged at debug level
	for k, v := range env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	pr, pw := io.Pipe()
	r.cmd.Stdout, r.cmd.Stderr = pw, pw
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("rie: start: %w", err)
	}
	go func() {
		s := bufio.NewScanner(pr)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			r.mu.Lock()
			r.out.WriteString(s.Text() + "\n")
			r.mu.Unlock()
		}
	}()
	go func() { _ = r.cmd.Wait(); pw.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := r.InitDuration(); ok {
			return r, nil
		}
		if strings.Contains(r.Output(), "INIT failed") {
			break
		}
		select {
		case <-ctx.Done():
			r.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	r.Stop()
	return nil, fmt.Errorf("rie: no INIT REPORT:\n%s", r.Output())
}

// Output is everything the emulator and the function printed so far.
func (r *RIE) Output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

var initReport = regexp.MustCompile(`INIT REPORT\(.*?durationMs: ([0-9.]+)`)

// InitDuration is the init time the INIT REPORT line gives.
func (r *RIE) InitDuration() (time.Duration, bool) {
	m := initReport.FindStringSubmatch(r.Output())
	if m == nil {
		return 0, false
	}
	ms, _ := strconv.ParseFloat(m[1], 64)
	return time.Duration(ms * float64(time.Millisecond)), true
}

// Invoke sends one event through the emulator's invoke API and returns the
// function's answer and how long the invocation took.
func (r *RIE) Invoke(ctx context.Context, event []byte) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(event))
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return body, took, fmt.Errorf("rie: invoke: %s: %s", resp.Status, body)
	}
	return body, took, nil
}

var execPID = regexp.MustCompile(`LocalProcessSupervisor.Exec pid=([0-9]+) path=` + regexp.QuoteMeta(TaskDir))

// PeakRSS is the function process's peak resident set, in MiB (Linux).
func (r *RIE) PeakRSS() (float64, bool) {
	m := execPID.FindStringSubmatch(r.Output())
	if m == nil {
		return 0, false
	}
	return PeakRSS(m[1])
}

// Stop ends the emulator and the function.
func (r *RIE) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
	}
}

// FunctionEnv reads, from a synthesized CloudFormation template, the
// environment of the function whose logical id starts with prefix,
// resolving Ref, Fn::GetAtt and Fn::Join through resolve (a logical id and
// the attribute, "" for Ref, to the value this test gives that resource).
func FunctionEnv(template, prefix string, resolve func(id, attr string) (string, error)) (map[string]string, error) {
	raw, err := os.ReadFile(template)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return nil, fmt.Errorf("template %s: %w", template, err)
	}
	for id, res := range tpl.Resources {
		if res.Type != "AWS::Lambda::Function" || !strings.HasPrefix(id, prefix) {
			continue
		}
		envBlock, _ := res.Properties["Environment"].(map[string]any)
		vars, _ := envBlock["Variables"].(map[string]any)
		out := map[string]string{}
		for k, v := range vars {
			s, err := intrinsic(v, resolve)
			if err != nil {
				return nil, fmt.Errorf("template %s: %s: %w", template, k, err)
			}
			out[k] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("template %s: no function %s*", template, prefix)
}

func intrinsic(v any, resolve func(id, attr string) (string, error)) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			return resolve(ref, "")
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			return resolve(fmt.Sprint(ga[0]), fmt.Sprint(ga[1]))
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			parts, _ := j[1].([]any)
			var out []string
			for _, p := range parts {
				s, err := intrinsic(p, resolve)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, fmt.Sprint(j[0])), nil
		}
	}
	return "", fmt.Errorf("unsupported value %v", v)
}

// ResetPeakRSS starts a new peak-RSS measurement of this process (Linux:
// clear_refs 5).
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// PeakRSS is a process's peak resident set in MiB ("self" for this one),
// from /proc; false where there is none.
func PeakRSS(pid string) (float64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024, true
		}
	}
	return 0, false
}
