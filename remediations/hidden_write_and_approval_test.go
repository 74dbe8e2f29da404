package remediations_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
	"github.com/bucketguard/bucketguard/remediations/undo"
)

// NotAction "s3-object-lambda:*" excludes only Object Lambda's actions: the
// statement grants every s3:* action (PutObject, DeleteObject,
// PutBucketPolicy) to everyone, public write.
const notOLWrite = `{"Sid":"SneakyWrite","Effect":"Allow","Principal":"*","NotAction":"s3-object-lambda:*","Resource":["arn:aws:s3:::acme-data","arn:aws:s3:::acme-data/*"]}`

func TestNotActionOfAnotherServiceIsPublicWrite(t *testing.T) {
	d, err := policy.Parse([]byte(doc(notOLWrite)))
	if err != nil {
		t.Fatal(err)
	}
	r := policy.Judge(d)
	if !r.Public || !r.PublicWrite {
		t.Errorf("verdict %+v: want public write", r.Statements)
	}
}

// An approval never keeps a public write hidden in NotAction.
func TestApprovalNeverKeepsAHiddenPublicWrite(t *testing.T) {
	f := fake.New()
	b := clean()
	b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
	b.Tags = approved("")
	b.Policy = doc(publicRead, notOLWrite, tlsStmt())
	f.Put("acme-data", b)
	res := eval(t, engine(f), bucketT, nil)
	got, _ := f.Bucket("acme-data")
	if strings.Contains(got.Policy, "SneakyWrite") {
		t.Errorf("status %s: an approved bucket kept a public-write statement:\n%s\nfindings %+v", res.Status, got.Policy, res.Findings)
	}
}

// An undo never puts back a public write hidden in NotAction.
func TestUndoNeverRestoresAHiddenPublicWrite(t *testing.T) {
	before := doc(publicRead, notOLWrite, tlsStmt())
	after := doc(tlsStmt())
	on := posture.AllOn
	rec := undo.Record{Incident: "i-1", At: time.Now(), Actions: []plan.Action{
		{Name: plan.RemovePublicPolicyStatements, Before: before, After: after},
		{Name: plan.BlockPublicAccess, Before: plan.DescribeBPA(posture.BPA{}), After: plan.DescribeBPA(on)},
	}}
	p := undo.New(undo.Input{Record: rec, Until: time.Now().Add(time.Hour), ApprovalTag: "bucketguard:approved-public", ApprovalUntilTag: "bucketguard:approved-until",
		Now: posture.Posture{
			Policy:    posture.Fact[string]{State: posture.Set, Value: after},
			BucketBPA: posture.Fact[posture.BPA]{State: posture.Set, Value: on},
			Tags:      posture.Fact[map[string]string]{State: posture.Set, Value: map[string]string{}},
		}})
	for _, s := range p.Steps {
		if strings.Contains(s.Policy, "SneakyWrite") {
			t.Errorf("undo restores public write: %s", s.Policy)
		}
	}
}

// Another attempt holds the lease, and this attempt's claim is throttled
// while the record can be read: it is held elsewhere, so this attempt
// writes and tells nothing.
func TestThrottledClaimRespectsAnotherAttemptsLease(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(publicWrite)})
	cfg := config.Default()
	cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), Ledger: f.Store()})
	// attempt A (another Lambda) holds the lease for 15 minutes.
	if r, err := f.Store().Claim(context.Background(), "k", time.Now(), time.Now().Add(15*time.Minute)); err != nil || !r.Held {
		t.Fatalf("A's claim: %+v %v", r, err)
	}
	claims := 0
	f.Fault = func(o op.Operation, _ string, _ int) error {
		if o == op.UpdateItem {
			claims++
			if claims == 1 { // attempt B's claim only
				return fake.APIError("ProvisionedThroughputExceededException", "slow down")
			}
		}
		return nil
	}
	rep, err := p.Run(context.Background(), incident.Incident{Key: "k", Target: bucketT, Attempts: 3}, quiet)
	if f.Writes() != 0 || len(f.Published()) != 0 || err != nil || rep.Skip != incident.ErrHeldElsewhere.Error() {
		t.Errorf("skip %q, err %v, %d writes, %d published: another attempt holds the lease", rep.Skip, err, f.Writes(), len(f.Published()))
	}
}

// While DynamoDB throttles the incident's item (claim, record, journal),
// the approval is not recorded either: the retry still tells who opened
// the bucket to public read.
func TestApprovalChangeSurvivesAThrottledLedger(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Tags = approved("")
	b.Policy = doc(publicRead, tlsStmt())
	f.Put("acme-data", b)
	cfg := config.Default()
	cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), Ledger: f.Store()})
	change := &events.Change{Name: events.PutBucketTagging, EventID: "e-1", Actor: events.Actor{ARN: "arn:aws:iam::111122223333:user/mallory"},
		RequestTags: map[string]string{"bucketguard:approved-public": "true", "owner": "web-team"}}
	throttled := fake.APIError("ProvisionedThroughputExceededException", "slow down")
	f.Fault = func(o op.Operation, _ string, _ int) error {
		if o == op.UpdateItem || o == op.GetItem {
			return throttled
		}
		return nil
	}
	inc := incident.Incident{Key: "e-1", Target: bucketT, Trigger: change, Attempts: 3}
	if _, err := p.Run(context.Background(), inc, quiet); err == nil {
		t.Fatal("the first attempt asks for a retry")
	}
	f.Fault = nil
	rep, _ := p.Run(context.Background(), inc, quiet)
	if !slices.ContainsFunc(rep.Result.Findings, func(f plan.Finding) bool { return f.ID == plan.ApprovalGranted }) {
		t.Errorf("the approval change is lost: retry's findings %+v", rep.Result.Findings)
	}
}

type failJournal struct {
	incident.Store
	fail *bool
}

func (s failJournal) SaveJournal(ctx context.Context, key, attempt string, j []byte) error {
	if *s.fail {
		return fake.APIError("ProvisionedThroughputExceededException", "slow down")
	}
	return s.Store.SaveJournal(ctx, key, attempt, j)
}

// When the journal cannot be kept (the fix goes ahead unjournaled) and the
// attempt then hands over to its retry, the approval is not recorded: the
// retry still tells who approved public read.
func TestApprovalChangeSurvivesAnUnjournaledAttempt(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Tags = approved("")
	b.Policy = doc(publicRead, publicWrite, tlsStmt())
	f.Put("acme-data", b)
	cfg := config.Default()
	cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), Ledger: f.Store()})
	fail := true
	p.Store = failJournal{p.Store, &fail}
	change := &events.Change{Name: events.PutBucketTagging, EventID: "e-1", Actor: events.Actor{ARN: "arn:aws:iam::111122223333:user/mallory"},
		RequestTags: map[string]string{"bucketguard:approved-public": "true", "owner": "web-team"}}
	f.Fault = fake.FailOp(op.PutBucketPolicy, fake.HTTPError(503))
	inc := incident.Incident{Key: "e-1", Target: bucketT, Trigger: change, Attempts: 3}
	if _, err := p.Run(context.Background(), inc, quiet); err == nil {
		t.Fatal("the first attempt asks for a retry")
	}
	f.Fault, fail = nil, false
	rep, _ := p.Run(context.Background(), inc, quiet)
	if !slices.ContainsFunc(rep.Result.Findings, func(f plan.Finding) bool { return f.ID == plan.ApprovalGranted }) {
		t.Errorf("the approval change is lost: retry's findings %+v", rep.Result.Findings)
	}
}
