package remediations_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Where AWS's own check says the policy bucketguard is about to write is
// public and bucketguard's judge says it is not, AWS wins: the
// disagreement is a finding naming both, and the bucket's Block Public
// Access is turned on in full (fail closed) beside the rewrite.
func TestAWSDisagreementFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags map[string]string
	}{
		{"unapproved bucket", nil},
		{"approved bucket", approved("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			b := clean()
			b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
			b.Tags = tc.tags
			b.Policy = doc(publicRead, publicWrite, tlsStmt())
			f.Put("acme-data", b)
			f.Verdict = func(string, string) []string {
				return []string{"the statement grants s3:GetObject to a principal AWS treats as public"}
			}
			res := eval(t, engine(f), bucketT, nil)
			got, _ := f.Bucket("acme-data")
			if got.BPA == nil || *got.BPA != posture.AllOn {
				t.Errorf("Block Public Access after: %+v, want all four on", got.BPA)
			}
			if strings.Contains(got.Policy, "PublicWrite") {
				t.Errorf("the rewrite did not go out: %s", got.Policy)
			}
			i := slices.IndexFunc(res.Findings, func(f plan.Finding) bool { return f.ID == plan.AWSJudgesFixPublic })
			if i < 0 || !strings.Contains(res.Findings[i].Summary, "AWS treats as public") || !strings.Contains(res.Findings[i].Summary, "bucketguard's judge finds no public statement") {
				t.Fatalf("findings %+v", res.Findings)
			}
		})
	}
}

// AWS is asked about what the write leaves public on purpose last: for an
// approved bucket the approved public-read statements are taken out of the
// document it checks, and an access point's policy is checked as one.
func TestAWSIsAskedAboutWhatIsNotApproved(t *testing.T) {
	f := fake.New()
	b := clean()
	b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
	b.Tags = approved("")
	b.Policy = doc(publicRead, publicWrite, tlsStmt())
	f.Put("acme-data", b)
	f.PutAccessPoint("ap-open", fake.AccessPoint{Bucket: "acme-data",
		Policy: `{"Statement":[{"Sid":"APPublic","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/ap-open/object/*"},{"Sid":"APPartner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/ap-open/object/*"}]}`})
	var mu sync.Mutex
	asked := map[string]string{}
	f.Verdict = func(d, rt string) []string {
		mu.Lock()
		defer mu.Unlock()
		asked[rt] = d
		return nil
	}
	res := eval(t, engine(f), bucketT, nil)
	if d := asked["AWS::S3::Bucket"]; d == "" || strings.Contains(d, "PublicRead") || strings.Contains(d, "PublicWrite") || !strings.Contains(d, "BucketGuardDenyInsecureTransport") && !strings.Contains(d, `"T"`) {
		t.Errorf("the bucket document asked about: %q", d)
	}
	if d := asked["AWS::S3::AccessPoint"]; !strings.Contains(d, "APPartner") || strings.Contains(d, "APPublic") {
		t.Errorf("the access point document asked about: %q", d)
	}
	if slices.ContainsFunc(res.Findings, func(f plan.Finding) bool { return f.ID == plan.AWSJudgesFixPublic }) {
		t.Errorf("a disagreement where AWS agrees: %+v", res.Findings)
	}
	if n := f.Count(op.CheckNoPublicAccess); n != 2 {
		t.Errorf("%d checks, want 2", n)
	}
}

// Where AWS's check cannot be had (AccessDenied, throttling, a region
// without it), the write goes ahead on bucketguard's judgement, said in
// the alert and counted in a log line the stack's metric counts.
func TestSecondOpinionUnavailableWritesOnJudgement(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Policy = doc(publicRead, tlsStmt())
	f.Put("acme-data", b)
	f.Fault = fake.FailOp(op.CheckNoPublicAccess, fake.APIError("AccessDeniedException", "not authorized to perform access-analyzer:CheckNoPublicAccess"))
	var logs bytes.Buffer
	res, err := engine(f).Evaluate(context.Background(), bucketT, nil, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f.Bucket("acme-data")
	if strings.Contains(got.Policy, "PublicRead") || res.Status != contract.Remediated {
		t.Errorf("status %s, policy %s: the fix must go ahead", res.Status, got.Policy)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "bucketguard's judgement alone") }) {
		t.Errorf("notes %q", res.Notes)
	}
	if !strings.Contains(logs.String(), `"msg":"`+contract.MsgNoSecondOpinion+`"`) {
		t.Errorf("no %s line:\n%s", contract.MsgNoSecondOpinion, logs.String())
	}
}
