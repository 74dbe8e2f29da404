package startup_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

const (
	alerts = "arn:aws:sns:eu-west-1:111122223333:bucketguard-alerts"
	chat   = "arn:aws:sns:eu-west-1:111122223333:bucketguard-chat"
)

// Security Hub and chat on together: Wire gives every result to both,
// beside the alert, and the sweep's batching reaches the Security Hub
// reporter among them.
func TestWireBothReporters(t *testing.T) {
	f := fake.New()
	on := posture.AllOn
	f.SetAccountBPA(&on)
	f.Put("acme-open", fake.Bucket{Policy: emulator.PolicyDoc(emulator.PublicReadStatement("acme-open"))})
	hub := &fake.SecurityHub{}
	cfg := config.Default()
	cfg.Mode = config.Notify
	cfg.TopicARN, cfg.ChatTopicARN, cfg.SecurityHub = alerts, chat, true
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), SecurityHub: hub, Region: "eu-west-1"})

	rs, ok := p.Reporter.(startup.Reporters)
	if !ok || len(rs) != 2 {
		t.Fatalf("reporter %T %v, want both reporters", p.Reporter, p.Reporter)
	}
	if startup.FindingsOf(p) == nil {
		t.Fatal("FindingsOf finds no Security Hub reporter among both")
	}
	rep, err := p.Run(context.Background(), incident.Incident{Target: posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-open"}, Attempts: 1},
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil || len(rep.Result.Findings) == 0 {
		t.Fatalf("run: %v, findings %v", err, rep.Result.Findings)
	}
	topics := map[string]int{}
	for _, m := range f.Published() {
		topics[m.TopicARN]++
	}
	if topics[alerts] != 1 || topics[chat] != 1 {
		t.Errorf("published %v, want one alert and one chat notification", topics)
	}
	if got := hub.Imports(); len(got) != 1 || got[0] != 2 {
		t.Errorf("Security Hub imports %v, want one of two findings (policy, ACL)", got)
	}
}

// The functions' start-up wires both from the settings; only the sweep
// batches its imports.
func TestLambdaWiresBothReporters(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	env := map[string]string{config.EnvTopicARN: alerts, config.EnvSelfRoleARN: "arn:aws:iam::111122223333:role/bucketguard-remediate",
		config.EnvSecurityHub: "on", config.EnvChatTopicARN: chat}
	for function, batch := range map[string]bool{"remediate": false, "sweep": true} {
		k, err := startup.Lambda(context.Background(), function, config.Lookup(env), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if rs, ok := k.Incidents.Reporter.(startup.Reporters); !ok || len(rs) != 2 {
			t.Errorf("%s: reporter %T, want both", function, k.Incidents.Reporter)
		}
		if k.Findings == nil || k.Findings.Batch != batch {
			t.Errorf("%s: Security Hub reporter %+v, batch want %v", function, k.Findings, batch)
		}
	}
}
