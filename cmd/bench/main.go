// Command bench measures bucketguard against the physical floor and prints
// one table (make bench): requests and sequential rounds per event scenario
// (moto behind a delay proxy; rounds are the slope of latency against the
// added delay), init time and peak RSS of the functions under the Lambda
// Runtime Interface Emulator, the sweep's buckets a second and peak RSS at
// 20 ms per call (the fakes), new connections per 1,000 buckets of a warm
// sweep (moto), and the bootstraps' sizes. Absolute times are printed,
// never asserted; request counts are asserted (they are deterministic).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/startup"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

const account = "111122223333"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// tb is the emulator rig's TB outside a test: a failure ends the program.
type tb struct{ cleanups []func() }

func (*tb) Helper()                   {}
func (*tb) Fatal(a ...any)            { fail(fmt.Sprint(a...)) }
func (*tb) Fatalf(f string, a ...any) { fail(fmt.Sprintf(f, a...)) }
func (t *tb) Cleanup(f func())        { t.cleanups = append(t.cleanups, f) }
func (t *tb) close() {
	slices.Reverse(t.cleanups)
	for _, f := range t.cleanups {
		f()
	}
}
func fail(msg string) { fmt.Fprintln(os.Stderr, "bench:", msg); os.Exit(1) }
func must(err error) {
	if err != nil {
		fail(err.Error())
	}
}
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
func mib(n int64) string        { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

type row struct{ section, what, value, note string }

var (
	rows     []row
	failures []string
)

func add(section, what, value, note string) { rows = append(rows, row{section, what, value, note}) }

func check(ok bool, format string, a ...any) {
	if !ok {
		failures = append(failures, fmt.Sprintf(format, a...))
	}
}

func main() {
	ctx := context.Background()
	t := &tb{}
	defer t.close()
	for _, part := range []struct {
		name string
		run  func()
	}{
		{"events", func() { eventRounds(ctx, t) }},
		{"rie", func() { rie(ctx, t) }},
		{"sweep", func() { sweepAtLatency(ctx) }},
		{"connections", func() { connections(ctx, t) }},
		{"throttling", func() { throttling(ctx, t) }},
		{"sizes", sizes},
	} {
		// BENCH_ONLY=name runs one part, for working on it.
		if only := os.Getenv("BENCH_ONLY"); only != "" && only != part.name {
			continue
		}
		start := time.Now()
		part.run()
		fmt.Fprintf(os.Stderr, "bench: %s took %s\n", part.name, time.Since(start).Round(time.Second))
	}
	fmt.Println()
	fmt.Printf("%-31s %-60s %-18s %s\n", "", "", "measured", "target / note")
	last := ""
	for _, r := range rows {
		if r.section != "" && r.section != last {
			last = r.section
			fmt.Println()
		}
		fmt.Printf("%-31s %-60s %-18s %s\n", r.section, r.what, r.value, r.note)
	}
	fmt.Println()
	if len(failures) > 0 {
		for _, f := range failures {
			fmt.Println("FAIL:", f)
		}
		os.Exit(1)
	}
	fmt.Println("bench: every asserted count holds")
}

// scenario is one event on one bucket, set up fresh before each run.
type scenario struct {
	name, sample string
	setup        func(ctx context.Context, s emulator.Scene, b string) error
	requests     int // as deployed: S3, S3 Control, DynamoDB, SNS
	target       string
}

func eventRounds(ctx context.Context, t *tb) {
	e := emulator.NewEmulator(t)
	a, err := emulator.NewAlerting(ctx, e.Direct)
	must(err)
	cfg := config.Default()
	cfg.TopicARN, cfg.FallbackQueueURL, cfg.LedgerTable, cfg.SelfRoleARN = a.Topic, a.Fallback, a.Ledger, "arn:aws:iam::111122223333:role/bucketguard"
	sdk := emulator.EmulatorConfig(e.Proxy.URL, e.Region)
	sdk.HTTPClient = clients.HTTPClient(cfg.CallTimeout, startup.Conns(cfg))
	h := &handler.Handler{Incidents: startup.Parts(cfg, clients.New(sdk)), Log: quiet}
	scene := emulator.Scene{S3: e.Direct.S3, Control: e.Direct.Control, Region: e.Region, Account: account}
	scenarios := []scenario{
		{"clean bucket", "PutBucketPolicy", func(ctx context.Context, s emulator.Scene, b string) error {
			return s.Baseline(ctx, b, "finance")
		}, 9 + 1, "target 1"},
		{"one public statement", "PutBucketPolicy", func(ctx context.Context, s emulator.Scene, b string) error {
			return errs(s.Baseline(ctx, b, "finance"), s.Policy(ctx, b, emulator.PolicyDoc(emulator.PartnerStatement(b), emulator.PublicReadStatement(b), emulator.TLSStatement(b))))
		}, 9 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1, "target 4; the journal, re-read and AWS's check (before the writes) and the record after delivery add two"},
		{"everything wrong", "PutBucketPolicy", func(ctx context.Context, s emulator.Scene, b string) error {
			return errs(s.CreateBucket(ctx, b), s.Tags(ctx, b, map[string]string{"owner": "finance"}), s.Encryption(ctx, b, "", ""),
				s.PublicACL(ctx, b), s.Policy(ctx, b, emulator.PolicyDoc(emulator.PublicReadStatement(b))))
		}, 9 + 1 + 1 + 3 + 1 + 4 + 4 + 1 + 1 + 1 + 1, "target 5; the same two"},
	}
	delays := []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond}
	for i, sc := range scenarios {
		var xs, ys []float64
		requests := 0
		for _, d := range delays {
			var runs []time.Duration
			for run := range 3 {
				b := fmt.Sprintf("acme-bench-%d-%d-%d", i, d.Milliseconds(), run)
				must(sc.setup(ctx, scene, b))
				raw := event(sc.sample, b, e.Region, fmt.Sprintf("bench-%d-%d-%d", i, d.Milliseconds(), run))
				e.Proxy.Reset()
				// moto has no IAM Access Analyzer: the proxy answers its
				// check as AWS would (one request, after the same delay).
				e.Proxy.Add(&emulator.Rule{Op: "access-analyzer:CheckNoPublicAccess", Delay: d, Answer: `{"result":"PASS","message":"no public access"}`})
				if d > 0 {
					e.Proxy.Add(&emulator.Rule{Op: "*", Delay: d})
				}
				start := time.Now()
				if _, err := h.Process(ctx, raw); err != nil {
					fail(fmt.Sprintf("%s: %v", sc.name, err))
				}
				runs = append(runs, time.Since(start))
				requests = e.Proxy.Count()
			}
			sort.Slice(runs, func(a, b int) bool { return runs[a] < runs[b] })
			xs, ys = append(xs, float64(d.Milliseconds())), append(ys, float64(runs[1].Microseconds())/1000)
		}
		rounds := slope(xs, ys)
		section := ""
		if i == 0 {
			section = "event (moto, delay proxy)"
		}
		add(section, sc.name+": requests", strconv.Itoa(requests), "")
		add("", sc.name+": sequential rounds (slope)", fmt.Sprintf("%.2f", rounds), sc.target)
		add("", sc.name+": latency at +0 / +50 / +100 ms a call", fmt.Sprintf("%.0f/%.0f/%.0f ms", ys[0], ys[1], ys[2]), "")
		check(requests == sc.requests, "%s: %d requests, want %d", sc.name, requests, sc.requests)
	}
}

func errs(es ...error) error {
	for _, e := range es {
		if e != nil {
			return e
		}
	}
	return nil
}

// slope is the least-squares slope of y against x.
func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(ys))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	return num / den
}

// event is a CloudTrail sample for a bucket, with its own event id.
func event(sample, bucket, region, id string) []byte {
	raw, err := os.ReadFile(filepath.Join("events", "testdata", "cloudtrail", sample+".json"))
	must(err)
	var env map[string]any
	must(json.Unmarshal(raw, &env))
	d := env["detail"].(map[string]any)
	env["region"], d["awsRegion"], d["eventID"] = region, region, id
	if params, ok := d["requestParameters"].(map[string]any); ok {
		params["bucketName"] = bucket
		params["Host"] = bucket + ".s3." + region + ".amazonaws.com"
		delete(params, "host")
	}
	out, err := json.Marshal(env)
	must(err)
	_, err = events.Parse(out)
	must(err)
	return out
}

// rie runs each function's bootstrap (built for this machine) under the
// Runtime Interface Emulator with the template's environment.
func rie(ctx context.Context, t *tb) {
	e := emulator.NewEmulator(t)
	alerting, err := emulator.NewAlerting(ctx, e.Direct)
	must(err)
	dir, err := os.MkdirTemp("", "bucketguard-bench")
	must(err)
	defer os.RemoveAll(dir)
	build := func(out, pkg string) {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			fail(fmt.Sprintf("go build %s: %v\n%s", pkg, err, b))
		}
	}
	build(filepath.Join(dir, "aws-lambda-rie"), "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	template := filepath.Join("cdk.out", "BucketGuard-"+e.Region+".template.json")
	for _, fn := range []string{"remediate", "sweep"} {
		env, err := emulator.FunctionEnv(template, strings.ToUpper(fn[:1])+fn[1:]+"Function", alerting.Resolve)
		must(err)
		env["AWS_REGION"], env["AWS_ENDPOINT_URL"] = e.Region, e.Endpoint
		env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = "testing", "testing"
		bootstrap := filepath.Join(dir, fn)
		build(bootstrap, "./functions/"+fn)
		var inits []time.Duration
		var first time.Duration
		var rss float64
		for run := range 3 {
			r, err := emulator.StartRIE(ctx, filepath.Join(dir, "aws-lambda-rie"), bootstrap, env)
			must(err)
			d, _ := r.InitDuration()
			inits = append(inits, d)
			if fn == "remediate" && run == 0 {
				b := "acme-rie"
				s := emulator.Scene{S3: e.Direct.S3, Control: e.Direct.Control, Region: e.Region, Account: account}
				must(s.CreateBucket(ctx, b))
				must(s.Policy(ctx, b, emulator.PolicyDoc(emulator.PublicReadStatement(b))))
				_, took, err := r.Invoke(ctx, event("PutBucketPolicy", b, e.Region, "bench-rie"))
				must(err)
				first = took
				rss, _ = r.PeakRSS()
			}
			r.Stop()
			time.Sleep(100 * time.Millisecond)
		}
		sort.Slice(inits, func(a, b int) bool { return inits[a] < inits[b] })
		section := ""
		if fn == "remediate" {
			section = "Lambda (RIE, this machine)"
		}
		add(section, fn+": init (INIT REPORT, median of 3)", ms(inits[1]), "")
		if fn == "remediate" {
			add("", "remediate: first event (public policy, moto)", ms(first), "cold connections included")
			add("", "remediate: peak RSS after the first event", fmt.Sprintf("%.1f MiB", rss), "")
		}
	}
}

// sweepAtLatency runs the sweep as deployed over the fakes, every call held
// 20 ms, on make scale's mixed account.
func sweepAtLatency(ctx context.Context) {
	const n = 2000
	for _, c := range []int{16, 32, config.Default().SweepConcurrency, config.MaxSweepConcurrency} {
		for _, mode := range []config.Mode{config.Notify, config.Enforce} {
			f := emulator.MixedFake(n)
			f.Delay = func(op.Operation) time.Duration { return 20 * time.Millisecond }
			cfg := config.Default()
			cfg.Mode = mode
			cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
			h := &sweep.Handler{
				Incidents: startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), Ledger: f.Store()}),
				List:      f.S3(),
				Options:   sweep.Options{Region: "eu-west-1", Concurrency: c, PageSize: 1000},
				Log:       quiet,
			}
			emulator.ResetPeakRSS()
			start := time.Now()
			p, err := h.Part(ctx, fake.Account, &sweep.Continuation{Run: "bench"}, quiet)
			must(err)
			perSec := float64(p.Tally.Seen) / time.Since(start).Seconds()
			rss, _ := emulator.PeakRSS("self")
			what, target := "report only", 1000.0
			if mode == config.Enforce {
				what, target = "with fixes", 600
			}
			note := ""
			if c == config.Default().SweepConcurrency {
				note = fmt.Sprintf("the default; target %.0f", target)
			}
			section := ""
			if c == 16 && mode == config.Notify {
				section = "sweep (fakes, 20 ms a call)"
			}
			add(section, fmt.Sprintf("concurrency %d, %s: buckets/s, peak RSS", c, what), fmt.Sprintf("%.0f, %.0f MiB", perSec, rss), note)
			check(p.Tally.Seen == n, "sweep saw %d buckets, want %d", p.Tally.Seen, n)
		}
	}
}

// connections counts the connections a warm sweep opens on moto, with the
// pool sized to the work in flight and with the SDK's default pool.
func connections(ctx context.Context, t *tb) {
	const n = 300
	e := emulator.NewEmulator(t)
	scene := emulator.Scene{S3: e.Direct.S3, Control: e.Direct.Control, Region: e.Region, Account: account}
	must(scene.Mixed(ctx, n))
	cfg := config.Default()
	cfg.Mode = config.Notify
	for _, pool := range []string{"sized", "SDK default"} {
		var dials atomic.Int64
		count := func(tr *http.Transport) {
			dial := tr.DialContext
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return dial(ctx, network, addr)
			}
		}
		var hc *awshttp.BuildableClient
		if pool == "sized" {
			hc = clients.HTTPClient(cfg.CallTimeout, startup.Conns(cfg)).WithTransportOptions(count)
		} else {
			hc = awshttp.NewBuildableClient().WithTimeout(cfg.CallTimeout).WithTransportOptions(count)
		}
		// Through the fault proxy, a Go server that keeps connections
		// alive (moto's own server closes each one).
		sdk := emulator.EmulatorConfig(e.Proxy.URL, e.Region)
		sdk.HTTPClient = hc
		set := clients.New(sdk)
		h := &sweep.Handler{Incidents: startup.Wire(cfg, startup.Clients{S3: set.S3, Control: set.Control}), List: set.S3,
			Options: sweep.Options{Region: e.Region, Concurrency: cfg.SweepConcurrency, PageSize: 1000}, Log: quiet}
		for run := range 2 { // the second run is warm
			dials.Store(0)
			p, err := h.Part(ctx, account, &sweep.Continuation{Run: fmt.Sprint("conns-", pool, run)}, quiet)
			must(err)
			check(p.Tally.Seen >= n, "connections sweep saw %d buckets", p.Tally.Seen)
		}
		per := float64(dials.Load()) * 1000 / n
		note := ""
		if pool == "sized" {
			note = fmt.Sprintf("pool %d per host", startup.Conns(cfg))
			check(per < 100, "a warm sweep opened %.0f connections per 1,000 buckets", per)
		}
		section := ""
		if pool == "sized" {
			section = "connections (moto, warm sweep)"
		}
		add(section, fmt.Sprintf("new connections per 1,000 buckets, %s pool", pool), fmt.Sprintf("%.0f", per), note)
	}
}

// throttling sweeps a mixed account on moto while the proxy answers the
// first attempt of every call on one bucket in ten with 503 SlowDown, with the standard retryer (3 attempts) and with the adaptive
// one the sweep function runs with (AWS_RETRY_MODE=adaptive,
// AWS_MAX_ATTEMPTS=10): buckets a second and buckets that failed.
func throttling(ctx context.Context, t *tb) {
	n := 100
	e := emulator.NewEmulator(t)
	scene := emulator.Scene{S3: e.Direct.S3, Control: e.Direct.Control, Region: e.Region, Account: account}
	must(scene.Mixed(ctx, n))
	cfg := config.Default()
	cfg.Mode = config.Notify
	for i, mode := range []string{"standard, 3 attempts", "adaptive, 10 attempts"} {
		sdk := emulator.EmulatorConfig(e.Proxy.URL, e.Region)
		sdk.HTTPClient = clients.HTTPClient(cfg.CallTimeout, startup.Conns(cfg))
		if i == 1 {
			sdk.Retryer = func() aws.Retryer {
				return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
					o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) { so.MaxAttempts = 10; so.MaxBackoff = 50 * time.Millisecond })
				})
			}
		}
		set := clients.New(sdk)
		h := &sweep.Handler{Incidents: startup.Wire(cfg, startup.Clients{S3: set.S3, Control: set.Control}), List: set.S3,
			Options: sweep.Options{Region: e.Region, Concurrency: cfg.SweepConcurrency, PageSize: 1000}, Log: quiet}
		e.Proxy.Reset()
		for b := 0; b < n; b += 10 {
			e.Proxy.Add(&emulator.Rule{Op: "*", Bucket: emulator.MixName(b), Attempts: []int{1}, Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."})
		}
		start := time.Now()
		tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		p, err := h.Part(tctx, account, &sweep.Continuation{Run: fmt.Sprint("throttle-", i)}, quiet)
		cancel()
		must(err)
		section := ""
		if i == 0 {
			section = "throttled (moto, 503 SlowDown)"
		}
		add(section, fmt.Sprintf("1 bucket in 10 refused once per call, %s: buckets/s, failed", mode),
			fmt.Sprintf("%.0f, %d", float64(p.Tally.Seen)/time.Since(start).Seconds(), p.Tally.Errors), fmt.Sprintf("%d requests", e.Proxy.Count()))
		check(p.Tally.Errors == 0, "%s: %d buckets failed under throttling", mode, p.Tally.Errors)
	}
	e.Proxy.Reset()
}

// sizes reports the Lambda bundles make build made.
func sizes() {
	for _, fn := range []string{"remediate", "sweep"} {
		b, err1 := os.Stat(filepath.Join("dist", fn, "bootstrap"))
		z, err2 := os.Stat(filepath.Join("dist", fn+".zip"))
		if err1 != nil || err2 != nil {
			fail("dist/" + fn + ": run make build first")
		}
		section := ""
		if fn == "remediate" {
			section = "bundles (linux/arm64)"
		}
		add(section, fn+": bootstrap, zip", mib(b.Size())+", "+mib(z.Size()), "")
	}
}
