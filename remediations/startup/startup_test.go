package startup

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
)

const (
	topic = "arn:aws:sns:eu-west-1:111122223333:bucketguard-alerts"
	role  = "arn:aws:iam::111122223333:role/bucketguard-remediate"
	queue = "https://sqs.eu-west-1.amazonaws.com/111122223333/bucketguard-undelivered"
)

// The SDK reads its standard configuration from the process environment;
// pin it to a loopback endpoint so that nothing here can reach AWS (Load
// makes no calls anyway).
func sdkEnv(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

func TestLambdaRefusesBadSettings(t *testing.T) {
	sdkEnv(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // settings the error must name
	}{
		{"nothing set", map[string]string{}, []string{config.EnvTopicARN, config.EnvSelfRoleARN}},
		{"no self role", map[string]string{config.EnvTopicARN: topic}, []string{config.EnvSelfRoleARN}},
		{"bad mode", map[string]string{config.EnvTopicARN: topic, config.EnvSelfRoleARN: role, config.EnvMode: "fix"}, []string{config.EnvMode}},
		{"bad topic", map[string]string{config.EnvTopicARN: "alerts", config.EnvSelfRoleARN: role}, []string{config.EnvTopicARN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			k, err := Lambda(context.Background(), "remediate", config.Lookup(tc.env), &logs)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %s", err, s)
				}
			}
			if k.Log == nil || k.Incidents != nil {
				t.Fatalf("kit after a bad setting: log %v, incidents %v", k.Log, k.Incidents)
			}
			k.Log.Error("start", "err", err)
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log line is not JSON: %v: %s", err, logs.Bytes())
			}
			if line["function"] != "remediate" || line["msg"] != "start" {
				t.Errorf("log line %v", line)
			}
		})
	}
}

func TestLambdaWiresEverythingConfigured(t *testing.T) {
	sdkEnv(t)
	for _, tc := range []struct {
		name       string
		env        map[string]string
		wantLedger bool
		wantQueue  bool
	}{
		{"topic only", map[string]string{config.EnvTopicARN: topic, config.EnvSelfRoleARN: role}, false, false},
		{"fallback and ledger", map[string]string{
			config.EnvTopicARN: topic, config.EnvSelfRoleARN: role,
			config.EnvFallbackQueueURL: queue, config.EnvLedgerTable: "bucketguard-ledger",
			config.EnvMode: "notify",
		}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Lambda(context.Background(), "sweep", config.Lookup(tc.env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if k.AWS.Config.Region != "eu-west-1" || k.AWS.S3 == nil || k.AWS.SNS == nil {
				t.Fatalf("clients not loaded: region %q", k.AWS.Config.Region)
			}
			e := k.Incidents.Engine
			if e.S3 == nil || e.Control == nil || e.Analyzer == nil || e.Config.Mode != k.Config.Mode {
				t.Errorf("engine: %+v", e)
			}
			a := k.Incidents.Alerts
			if a.SNS == nil || a.TopicARN != topic {
				t.Errorf("alerts topic: %q", a.TopicARN)
			}
			if got := a.FallbackURL != "" && a.Fallback != nil; got != tc.wantQueue {
				t.Errorf("fallback queue wired = %v, want %v", got, tc.wantQueue)
			}
			if got := a.Sent != nil && k.Incidents.Store != nil && e.Approvals != nil; got != tc.wantLedger {
				t.Errorf("ledger wired = %v, want %v", got, tc.wantLedger)
			}
		})
	}
}

var updateDocs = flag.Bool("update", false, "rewrite the docs section")

// The figures the docs state about an evaluation come from the code, in
// one section of docs/README.md that the other pages link.
func TestDocsFigures(t *testing.T) {
	def := config.Default()
	all := def
	all.EnforceVersioning, all.AccessLogBucket, all.EnforceOwnership = true, "logs", true
	bucket := posture.Target{Account: "111122223333", Region: "eu-west-1", Bucket: "b"}
	reads := func(c config.Config) int { return len((&remediations.Engine{Config: c}).Needs(bucket).Ops()) }
	readBack, alertTime := def.Reserve()
	rows := [][2]string{
		{"reads in the read round of a bucket (the default settings)", fmt.Sprint(reads(def))},
		{"reads in the read round of a bucket, every optional control on", fmt.Sprint(reads(all))},
		{"access points judged per bucket, at most", fmt.Sprint(read.MaxAccessPoints)},
		{"access point reads in flight per bucket, at most (one more round)", fmt.Sprint(read.MaxAccessPointReads)},
		{"settings read again just before they are written, at most (in the round before the writes)", fmt.Sprint(len(plan.Reread))},
		{"times a setting that keeps changing is planned again before it is left unwritten", fmt.Sprint(remediations.MaxReplans)},
		{"connections a bucket in flight holds, at most (`startup.Conns`)", fmt.Sprint(ConnsPerBucket())},
		{"sweep concurrency: default, at most", fmt.Sprintf("%d, %d", def.SweepConcurrency, config.MaxSweepConcurrency)},
		{"time kept for the read-back, and for the alert (call bounds)", fmt.Sprintf("%s, %s", readBack, alertTime)},
		{"journal, at most (bytes)", fmt.Sprint(remediations.MaxJournal)},
		{"alert message and attributes, at most (bytes)", fmt.Sprint(alert.MaxMessage)},
		{"how long an incident's record and a sent mark are kept", ledger.TTL.String()},
	}
	var b strings.Builder
	b.WriteString("| figure | value |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
	}
	golden.Section(t, "../../docs/README.md", "figures", b.String(), *updateDocs)
}
