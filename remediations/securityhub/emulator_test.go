//go:build integration

package securityhub_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awssecurityhub "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

// lines is a log sink that tests read line by line.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// take returns the lines written since the last take.
func (l *lines) take() []map[string]any {
	l.mu.Lock()
	s := l.b.String()
	l.b.Reset()
	l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// One bucket's finding through its whole life on the emulator, each stage a
// real evaluation through the protocol as start-up wires it (Security Hub
// on, the ledger, the alert topic): public (notify mode) → fixed → approved
// (the owner's PutBucketTagging) → the approval expired (notify mode) → the bucket deleted. After each
// stage GetFindings shows the finding's compliance and record state. moto
// keeps imports but has no BatchUpdateFindings: each workflow change the
// evaluation saw is sent, refused, and logged as a rejected update.
func TestLifecycleOnTheEmulator(t *testing.T) {
	e := emulator.NewEmulator(t)
	ctx := emulator.Ctx(t)
	hub := awssecurityhub.NewFromConfig(e.Direct.Config)
	if _, err := hub.EnableSecurityHub(ctx, &awssecurityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatalf("enable Security Hub: %v", err)
	}
	a, err := emulator.NewAlerting(ctx, e.Direct)
	if err != nil {
		t.Fatal(err)
	}
	const role = "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator"
	self, err := events.ParseRole(role)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.TopicARN, cfg.SelfRoleARN, cfg.SelfRoles, cfg.FallbackQueueURL, cfg.LedgerTable = a.Topic, role, []events.Role{self}, a.Fallback, a.Ledger
	cfg.SecurityHub = true
	p := startup.Parts(cfg, e.Clients)
	if startup.FindingsOf(p) == nil {
		t.Fatal("start-up wired no Security Hub reporter")
	}
	var logs lines
	log := slog.New(slog.NewJSONHandler(&logs, nil))

	scene := emulator.Scene{S3: e.Direct.S3, Control: e.Direct.Control, Region: e.Region, Account: account}
	const b = "acme-lifecycle"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(scene.Baseline(ctx, b, "web-team"))
	policyID := "bucketguard/" + account + "/" + e.Region + "/" + b + "/public-policy"
	aclID := "bucketguard/" + account + "/" + e.Region + "/" + b + "/public-acl"
	approval := func(until string) map[string]string {
		return map[string]string{"owner": "web-team", "bucketguard:approved-public": "true", "bucketguard:approved-until": until}
	}
	acls := &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}

	for i, st := range []struct {
		name  string
		setup func()
		mode  config.Mode
		// event, when set, is the CloudTrail sample that made the change.
		event string
		// The policy finding's compliance and record state; the ACL
		// finding passes throughout, and is archived with the bucket.
		compliance types.ComplianceStatus
		record     types.RecordState
		aclRecord  types.RecordState
		// updated says a workflow change is sent (moto refuses it).
		updated bool
	}{
		{"public", func() {
			must(scene.BPA(ctx, b, nil))
			must(scene.Policy(ctx, b, emulator.PolicyDoc(emulator.PublicReadStatement(b), emulator.TLSStatement(b))))
		}, config.Notify, "", types.ComplianceStatusFailed, types.RecordStateActive, types.RecordStateActive, true}, // the workflow set once as it becomes public
		{"fixed", func() {}, "", "", types.ComplianceStatusPassed, types.RecordStateActive, types.RecordStateActive, true},
		{"approved", func() {
			must(scene.Tags(ctx, b, approval("2099-01-01T00:00:00Z")))
			must(scene.BPA(ctx, b, acls))
			must(scene.Policy(ctx, b, emulator.PolicyDoc(emulator.PublicReadStatement(b), emulator.TLSStatement(b))))
		}, "", "PutBucketTagging", types.ComplianceStatusWarning, types.RecordStateActive, types.RecordStateActive, true},
		{"expired", func() {
			must(scene.Tags(ctx, b, approval("2020-01-01T00:00:00Z")))
		}, config.Notify, "", types.ComplianceStatusFailed, types.RecordStateActive, types.RecordStateActive, true},
		{"deleted", func() {
			_, err := e.Direct.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
			must(err)
		}, "", "", types.ComplianceStatusNotAvailable, types.RecordStateArchived, types.RecordStateArchived, false},
	} {
		st.setup()
		inc := incident.Incident{Key: "lifecycle/" + st.name, Target: posture.Target{Account: account, Region: e.Region, Bucket: b}, Attempts: 1, Mode: st.mode}
		if st.event != "" {
			// The owner's own call: the evaluation sees the approval
			// granted, and sets the workflow to match.
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", "testdata", "cloudtrail", st.event+".json"))
			must(err)
			c, err := events.Parse([]byte(strings.NewReplacer("acme-website", b, "2027-03-31T00:00:00Z", "2099-01-01T00:00:00Z", "eu-west-1", e.Region).Replace(string(raw))))
			must(err)
			inc.Key, inc.Trigger = c.EventID, &c
		}
		rep, err := p.Run(ctx, inc, log.With("stage", st.name))
		if err != nil {
			t.Fatalf("stage %d %s: %v", i+1, st.name, err)
		}
		out, err := hub.GetFindings(ctx, &awssecurityhub.GetFindingsInput{})
		must(err)
		got := map[string]types.AwsSecurityFinding{}
		for _, f := range out.Findings {
			got[aws.ToString(f.Id)] = f
		}
		pol, ok := got[policyID]
		if !ok {
			t.Fatalf("stage %s (status %s): no finding %s among %d", st.name, rep.Result.Status, policyID, len(out.Findings))
		}
		if pol.Compliance == nil || pol.Compliance.Status != st.compliance || pol.RecordState != st.record {
			t.Errorf("stage %s (status %s): policy finding %+v, %s; want %s, %s", st.name, rep.Result.Status, pol.Compliance, pol.RecordState, st.compliance, st.record)
		}
		if acl := got[aclID]; acl.RecordState != st.aclRecord || (st.aclRecord == types.RecordStateActive && acl.Compliance.Status != types.ComplianceStatusPassed) {
			t.Errorf("stage %s: ACL finding %+v, %s", st.name, acl.Compliance, acl.RecordState)
		}
		if n := len(got); n != 2 {
			t.Errorf("stage %s: %d findings, want 2 (policy and ACL, replaced by each import)", st.name, n)
		}
		// Every import went through; every workflow change was sent and
		// refused, and said so.
		var imports, updates int
		for _, l := range logs.take() {
			if l["msg"] != contract.MsgReportFailed {
				continue
			}
			switch l["op"] {
			case string(op.BatchImportFindings):
				imports++
			case string(op.BatchUpdateFindings):
				updates++
				if l[contract.FieldTo] != contract.ToSecurityHub || l[contract.FieldErr] == "" {
					t.Errorf("stage %s: rejected update line %v", st.name, l)
				}
			}
		}
		if imports != 0 {
			t.Errorf("stage %s: %d rejected imports", st.name, imports)
		}
		if st.updated && updates == 0 {
			t.Errorf("stage %s: the workflow change was not said to be refused", st.name)
		}
		if !st.updated && updates != 0 {
			t.Errorf("stage %s: %d workflow updates, want none (nothing changed)", st.name, updates)
		}
	}
}
