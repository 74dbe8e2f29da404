package incident_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

var (
	quiet  = slog.New(slog.NewTextHandler(io.Discard, nil))
	target = posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-data"}
	public = `{"Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}]}`
)

var _ incident.Store = (*fake.Store)(nil)

// protocol is the protocol over the fakes, wired as start-up wires it,
// with the fake ledger.
func protocol(f *fake.Fake) *incident.Protocol {
	cfg := config.Default()
	cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
	return startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), Ledger: f.Store()})
}

func publicBucket(f *fake.Fake) { f.Put("acme-data", fake.Bucket{Policy: public}) }

// A claim that cannot be made (DynamoDB throttles it, and the record
// cannot be read either) stops every write. With a retry coming, the
// attempt tells nothing and asks for the retry; where nothing retries the
// incident (the sweep, the CLI), it tells what it found without a record:
// a duplicate beats a loss.
func TestFailedClaim(t *testing.T) {
	for _, tc := range []struct {
		name      string
		attempts  int
		wantErr   bool
		published int
	}{
		{"retry coming", 3, true, 0},
		{"no retry", 1, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			publicBucket(f)
			throttled := fake.APIError("ProvisionedThroughputExceededException", "slow down")
			f.Fault = func(o op.Operation, _ string, _ int) error {
				if o == op.UpdateItem || o == op.GetItem {
					return throttled
				}
				return nil
			}
			rep, err := protocol(f).Run(context.Background(), incident.Incident{Key: "k", Target: target, Attempts: tc.attempts}, quiet)
			if (err != nil) != tc.wantErr {
				t.Errorf("err %v, want error %v", err, tc.wantErr)
			}
			if f.Writes() != 0 {
				t.Errorf("%d writes without a claim", f.Writes())
			}
			if n := len(f.Published()); n != tc.published {
				t.Errorf("%d published, want %d", n, tc.published)
			}
			if tc.published == 1 && (rep.Receipt.Delivery != contract.Published || rep.EvalErr == nil) {
				t.Errorf("delivery %s, evaluation error %v (the writes did not run)", rep.Receipt.Delivery, rep.EvalErr)
			}
		})
	}
}

// An attempt that finds another holding the lease writes and tells
// nothing.
func TestHeldElsewhereWritesAndTellsNothing(t *testing.T) {
	f := fake.New()
	publicBucket(f)
	if _, err := f.Store().Claim(context.Background(), "k", time.Now(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	rep, err := protocol(f).Run(context.Background(), incident.Incident{Key: "k", Target: target, Attempts: 3}, quiet)
	if err != nil || rep.Skip != incident.ErrHeldElsewhere.Error() || f.Writes() != 0 || len(f.Published()) != 0 {
		t.Fatalf("err %v skip %q writes %d published %d", err, rep.Skip, f.Writes(), len(f.Published()))
	}
}

// A journal left by an earlier attempt that cannot be decoded is said in
// the alert, not dropped in silence.
func TestUnreadableJournalIsSaid(t *testing.T) {
	f := fake.New()
	publicBucket(f)
	if err := f.Store().SaveJournal(context.Background(), "k", "earlier", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	rep, err := protocol(f).Run(context.Background(), incident.Incident{Key: "k", Target: target, Attempts: 1}, quiet)
	if err != nil || rep.Message == nil {
		t.Fatalf("err %v, message %v", err, rep.Message)
	}
	if !strings.Contains(strings.Join(rep.Result.Notes, " "), "journal could not be read") {
		t.Errorf("notes %q", rep.Result.Notes)
	}
}

// An attempt whose alert reaches nowhere lets its lease go (and, with no
// retry coming, says so in its error): the next attempt need not wait for
// the lease to expire.
func TestUndeliveredAlertReleasesTheLease(t *testing.T) {
	for _, attempts := range []int{1, 3} {
		f := fake.New()
		publicBucket(f)
		f.Fault = fake.FailOp(op.Publish, fake.APIError("InternalError", "SNS is down"))
		p := protocol(f)
		rep, err := p.Run(context.Background(), incident.Incident{Key: "k", Target: target, Attempts: attempts}, quiet)
		if err == nil || rep.Receipt.Delivery != contract.Undelivered || rep.EvalErr != nil {
			t.Fatalf("attempts %d: err %v delivery %s eval %v", attempts, err, rep.Receipt.Delivery, rep.EvalErr)
		}
		f.Fault = nil
		rep, err = p.Run(context.Background(), incident.Incident{Key: "k", Target: target, Attempts: attempts}, quiet)
		if err != nil || rep.Skip != "" || len(f.Published()) != 1 {
			t.Fatalf("attempts %d: the next attempt: err %v skip %q published %d", attempts, err, rep.Skip, len(f.Published()))
		}
	}
}

// The same incident told the same way is told once, whatever the driver.
func TestToldOnce(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: public})
	p := protocol(f)
	p.Engine.Config.Mode = config.Notify // nothing changes: the same story twice
	for range 3 {
		if _, err := p.Run(context.Background(), incident.Incident{Key: "k", Target: target, Attempts: 1}, quiet); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.Published()); n != 1 {
		t.Fatalf("published %d, want 1", n)
	}
}

// Without a key (an operator's check, remediate or scan), nothing is kept
// in the ledger and every run tells.
func TestUnkeyedIncidentsUseNoLedger(t *testing.T) {
	f := fake.New()
	publicBucket(f)
	p := protocol(f)
	p.Engine.Config.Mode = config.Notify
	for range 2 {
		if _, err := p.Run(context.Background(), incident.Incident{Target: target, Attempts: 1}, quiet); err != nil {
			t.Fatal(err)
		}
	}
	if n, db := len(f.Published()), f.Count(op.UpdateItem, op.GetItem, op.PutItem, op.DeleteItem); n != 2 || db != 0 {
		t.Fatalf("published %d (want 2), ledger calls %d (want 0)", n, db)
	}
}

// Due: an attempt tells when it finished or nothing retries it; with a
// retry coming, a failed attempt stays quiet when its journal is kept or
// it changed nothing, and tells what it wrote otherwise.
func TestDue(t *testing.T) {
	found := []plan.Finding{{ID: plan.BPAOff, Severity: plan.Medium}}
	wrote := []remediations.ActionResult{{Outcome: remediations.Verified}}
	failed := errors.New("503")
	for _, tc := range []struct {
		name  string
		res   remediations.Result
		err   error
		retry bool
		want  bool
	}{
		{"nothing found", remediations.Result{}, nil, false, false},
		{"finished", remediations.Result{Findings: found}, nil, true, true},
		{"failed, no retry", remediations.Result{Findings: found}, failed, false, true},
		{"failed, journaled, retry coming", remediations.Result{Findings: found, Actions: wrote, Journaled: true}, failed, true, false},
		{"failed before writing, retry coming", remediations.Result{Findings: found}, failed, true, false},
		{"failed after writing, unjournaled, retry coming", remediations.Result{Findings: found, Actions: wrote}, failed, true, true},
		{"deadline, unjournaled, retry coming", remediations.Result{Findings: found}, awserr.ErrDeadline, true, true},
	} {
		if got := incident.Due(tc.res, tc.err, tc.retry); got != tc.want {
			t.Errorf("%s: Due = %v, want %v", tc.name, got, tc.want)
		}
	}
}

type reporter struct {
	mu  sync.Mutex
	got []remediations.Result
}

func (r *reporter) Report(_ context.Context, res remediations.Result, _ *slog.Logger) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, res)
}

// The reporter gets the final result of each attempt (also a clean one),
// but not that of an attempt that leaves the incident to its retry.
func TestReporterGetsFinalResults(t *testing.T) {
	f := fake.New()
	publicBucket(f)
	on := posture.AllOn
	f.Put("acme-clean", fake.Bucket{BPA: &on, Encryption: &posture.Encryption{Algorithm: "AES256"},
		Policy: `{"Statement":[{"Sid":"T","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::acme-clean","arn:aws:s3:::acme-clean/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`})
	p := protocol(f)
	rep := &reporter{}
	p.Reporter = rep
	f.Fault = fake.FailOp(op.GetBucketAcl, fake.APIError("SlowDown", "slow down"))
	if _, err := p.Run(context.Background(), incident.Incident{Key: "k", Target: target, Attempts: 3}, quiet); err == nil {
		t.Fatal("a transient read error is retried")
	}
	f.Fault = nil
	p.Now = func() time.Time { return time.Now().Add(time.Hour) }
	for _, tgt := range []posture.Target{target, {Account: fake.Account, Region: "eu-west-1", Bucket: "acme-clean"}} {
		if _, err := p.Run(context.Background(), incident.Incident{Key: "k/" + tgt.Bucket, Target: tgt, Attempts: 3}, quiet); err != nil {
			t.Fatal(err)
		}
	}
	if len(rep.got) != 2 || rep.got[0].Status != contract.Remediated || rep.got[1].Status != contract.Clean {
		t.Fatalf("reported %d results", len(rep.got))
	}
}

// The same setting of one bucket fixed again and again within the window
// (a pipeline putting a public statement back) is a fight: bucketguard keeps
// fixing it, and tells the operations topic once per window, naming the
// actor and the setting, with a log line the stack's metric counts.
func TestFightIsToldOncePerWindow(t *testing.T) {
	f := fake.New()
	cfg := config.Default()
	cfg.TopicARN, cfg.OpsTopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts", "arn:aws:sns:eu-west-1:111122223333:ops"
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), SNS: f.SNS(), Analyzer: f.Analyzer(), Ledger: f.Store()})
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	actor := events.Actor{ARN: "arn:aws:iam::111122223333:role/deploy-pipeline"}
	publicBucket(f)
	for i := range 5 {
		b, _ := f.Bucket("acme-data")
		b.Policy = public // the pipeline puts the policy back
		f.Put("acme-data", b)
		c := &events.Change{EventID: fmt.Sprintf("ev-%d", i), Name: events.PutBucketPolicy, Actor: actor}
		if _, err := p.Run(context.Background(), incident.Incident{Key: c.EventID, Target: target, Trigger: c, Attempts: 3}, log); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.Bucket("acme-data"); strings.Contains(got.Policy, `"Public"`) {
			t.Fatalf("fix %d did not go out", i)
		}
	}
	var ops []fake.Published
	for _, m := range f.Published() {
		if m.TopicARN == cfg.OpsTopicARN {
			ops = append(ops, m)
		}
	}
	if len(ops) != 1 || !strings.Contains(ops[0].Message, "deploy-pipeline") || !strings.Contains(ops[0].Message, "remove-public-policy-statements") {
		t.Fatalf("%d fight notices on the operations topic: %+v", len(ops), ops)
	}
	if n := strings.Count(logs.String(), `"msg":"`+contract.MsgFight+`"`); n != 1 {
		t.Errorf("%d fight lines, want 1", n)
	}
}
