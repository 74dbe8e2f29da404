//go:build integration

package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// incident is a bucket with a public policy beside a partner statement,
// Block Public Access deleted and no default encryption: three writes.
func (r *erig) incident(b string) {
	r.bucket(b)
	r.tags(b, map[string]string{"owner": "finance"})
	r.policy(b, policyDoc(crossAccountStmt(b), publicReadStmt(b)))
}

func (r *erig) onlyAlert() alert.Document {
	r.t.Helper()
	got := r.alerts()
	if len(got) != 1 {
		r.t.Fatalf("%d alerts, want 1\n%s", len(got), r.logs.String())
	}
	return got[0].doc
}

func actionOf(d alert.Document, name plan.ActionName) remediations.ActionResult {
	for _, a := range d.Actions {
		if a.Name == name {
			return a
		}
	}
	return remediations.ActionResult{}
}

func TestThrottlingAnd5xxAreAbsorbedBySDKRetries(t *testing.T) {
	r := newERig(t)
	b := "acme-throttled"
	r.incident(b)
	r.e.Proxy.Add(
		&emulator.Rule{Op: "s3:GetBucketAcl", Attempts: []int{1, 2}, Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."},
		&emulator.Rule{Op: "s3:GetBucketPolicy", Attempts: []int{1}, Status: 500, Code: "InternalError"},
		&emulator.Rule{Op: "s3:PutBucketPolicy", Attempts: []int{1}, Status: 503, Code: "SlowDown"},
		&emulator.Rule{Op: "s3:PutPublicAccessBlock", Attempts: []int{1}, Status: 500, Code: "InternalError"},
		&emulator.Rule{Op: "s3:PutBucketEncryption", Attempts: []int{1}, Drop: true},
	)
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatalf("retries did not absorb the faults: %v\n%s", err, r.logs.String())
	}
	cleanUnder(t, b, r.posture(b))
	keeps(t, r.posture(b), crossAccountStmt(b))
	if d := r.onlyAlert(); d.Status != contract.Remediated {
		t.Errorf("status %s", d.Status)
	}
	if n := r.e.Proxy.Count("s3:GetBucketAcl"); n < 3 {
		t.Errorf("GetBucketAcl called %d times; the SDK should have retried twice", n)
	}
	if n := r.e.Proxy.Count("s3:PutBucketEncryption"); n != 2 {
		t.Errorf("PutBucketEncryption called %d times after a dropped connection, want 2", n)
	}
}

func TestAccessDeniedOnOneWrite(t *testing.T) {
	r := newERig(t)
	b := "acme-denied"
	r.incident(b)
	r.publicACL(b)
	r.e.Proxy.Add(&emulator.Rule{Op: "s3:PutBucketAcl", Status: 403, Code: "AccessDenied", Message: "Access Denied"})
	if err := r.invoke(r.event("PutBucketAcl", b)); err != nil {
		t.Fatalf("a permanent error must not ask Lambda to retry: %v", err)
	}
	p := r.posture(b)
	if !acl.Judge(p.ACL.Value).Public {
		t.Error("the denied ACL write went through anyway?")
	}
	if d, _ := policy.Parse([]byte(p.Policy.Value)); policy.Judge(d).Public || p.BucketBPA.Value != posture.AllOn || p.Encryption.State != posture.Set {
		t.Errorf("the other fixes did not apply: %+v", p)
	}
	d := r.onlyAlert()
	a := actionOf(d, plan.RemovePublicACLGrants)
	if d.Status != contract.Partial || a.Outcome != remediations.WriteFailed || !strings.Contains(a.Error, "AccessDenied") {
		t.Errorf("alert status %s, ACL action %+v", d.Status, a)
	}
	if !strings.Contains(d.Text(), "error: AccessDenied") {
		t.Errorf("the e-mail does not say what failed:\n%s", d.Text())
	}
	if n := r.e.Proxy.Count("s3:PutBucketAcl"); n != 1 {
		t.Errorf("PutBucketAcl tried %d times; AccessDenied is not retryable", n)
	}
}

func TestBucketDeletedMidFlight(t *testing.T) {
	r := newERig(t)
	b := "acme-vanishing"
	r.incident(b)
	r.e.Proxy.Add(&emulator.Rule{Op: "s3:PutBucketPolicy", Before: func() {
		_, err := r.e.Direct.S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(b)})
		if err != nil {
			t.Errorf("delete bucket: %v", err)
		}
	}})
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatalf("a deleted bucket must not be retried: %v", err)
	}
	d := r.onlyAlert()
	if !strings.Contains(d.Error, "no longer exists") || !strings.Contains(d.Text(), "no longer exists") {
		t.Errorf("alert does not say the bucket is gone: %+v", d)
	}
	// Block Public Access waits for the policy write, which met the gone
	// bucket; encryption depends on nothing and went out beside it.
	if n := r.e.Proxy.Count("s3:PutPublicAccessBlock"); n != 0 {
		t.Errorf("%d writes after the bucket vanished", n)
	}
}

func TestSNSDownAlertIsKept(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule *emulator.Rule
	}{
		{"errors", &emulator.Rule{Op: "sns:Publish", Status: 500, Code: "InternalError"}},
		{"time-outs", &emulator.Rule{Op: "sns:Publish", Delay: 3 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newERig(t)
			r.h.Incidents.Alerts.PublishTimeout = 500 * time.Millisecond
			b := "acme-sns-down"
			r.incident(b)
			r.e.Proxy.Add(tc.rule)
			if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
				t.Fatalf("the alert went to the fallback queue, the invocation should succeed: %v", err)
			}
			cleanUnder(t, b, r.posture(b))
			msgs, err := r.e.Direct.SQS.ReceiveMessage(r.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.fallback), MaxNumberOfMessages: 10,
				MessageAttributeNames: []string{"All"}})
			r.must(err)
			if len(msgs.Messages) != 1 {
				t.Fatalf("%d messages in the fallback queue\n%s", len(msgs.Messages), r.logs.String())
			}
			var d alert.Document
			r.must(json.Unmarshal([]byte(*msgs.Messages[0].Body), &d))
			if d.Bucket != b || d.Status != contract.Remediated || *msgs.Messages[0].MessageAttributes["publish_error"].StringValue == "" {
				t.Errorf("fallback message %+v", d)
			}
			if !strings.Contains(r.logs.String(), `"delivery":"fallback-queue"`) {
				t.Errorf("no log line for the spilled alert:\n%s", r.logs.String())
			}
		})
	}
}

// A call that hangs, at each write position and after the last
// write, or a process that dies after its last write. Every call's attempts
// are bounded (the call timeout), the time for the read-back and the alert
// is kept, the journal is durable before the first write, and the owner
// gets the original finding and the policy as it was exactly once, from the
// first attempt or from Lambda's retry.
func TestHangAtEachWritePositionToldOnce(t *testing.T) {
	const hang = 30 * time.Second
	for _, tc := range []struct {
		name string
		rule *emulator.Rule
		kill bool
	}{
		{"first write (the policy)", &emulator.Rule{Op: "s3:PutBucketPolicy", Delay: hang}, false},
		{"second write (Block Public Access)", &emulator.Rule{Op: "s3:PutPublicAccessBlock", Delay: hang}, false},
		{"after the last write (its read-back)", &emulator.Rule{Op: "s3:GetPublicAccessBlock", Attempts: []int{2, 3, 4}, Delay: hang}, false},
		{"the process dies after the last write", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newERig(t, func(c *config.Config) { c.CallTimeout = 300 * time.Millisecond })
			b := "acme-hang"
			r.incident(b)
			if tc.rule != nil {
				r.e.Proxy.Add(tc.rule)
			}
			if tc.kill {
				r.e.Proxy.Add(&emulator.Rule{Op: "s3:PutPublicAccessBlock", Before: r.e.Proxy.Kill})
			}
			raw := r.event("PutBucketPolicy", b)
			ctx, cancel := context.WithTimeout(r.ctx, 8*time.Second)
			defer cancel()
			_, err := lambda.NewHandler(r.h.Handle).Invoke(ctx, raw)
			if ctx.Err() != nil {
				t.Fatalf("the first attempt ran into its deadline: the reserve did not hold\n%s", r.logs.String())
			}
			r.e.Proxy.Reset()
			if err != nil {
				// Lambda retries a failed attempt, a minute later at least;
				// a dead attempt's lease expires with its deadline.
				if dl, ok := ctx.Deadline(); ok && tc.kill {
					time.Sleep(time.Until(dl))
				}
				if err := r.invoke(raw); err != nil {
					t.Fatalf("retry: %v\n%s", err, r.logs.String())
				}
			}
			cleanUnder(t, b, r.posture(b))
			alerts := r.alerts()
			found, before := 0, 0
			for _, a := range alerts {
				for _, f := range a.doc.Findings {
					if f.ID == plan.PublicPolicyStatement {
						found++
					}
				}
				if strings.Contains(actionOf(a.doc, plan.RemovePublicPolicyStatements).Before, "PublicRead") {
					before++
				}
			}
			if found != 1 || before != 1 {
				t.Errorf("%d alerts (first attempt err %v): the public statement told %d times, the policy before the fix %d times; want once each\n%s",
					len(alerts), err, found, before, r.logs.String())
			}
		})
	}
}

func TestConcurrentEventsOnOneBucket(t *testing.T) {
	r := newERig(t)
	b := "acme-busy"
	r.incident(b)
	r.policy(b, policyDoc(crossAccountStmt(b), publicReadStmt(b), publicWriteStmt(b)))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		raw := r.event("PutBucketPolicy", b, func(d map[string]any) { d["eventID"] = fmt.Sprintf("concurrent-%02d", i) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := lambda.NewHandler(r.h.Handle).Invoke(r.ctx, raw)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	p := r.posture(b)
	cleanUnder(t, b, p)
	keeps(t, p, crossAccountStmt(b))
	if n := strings.Count(p.Policy.Value, policy.TLSSid); n != 1 {
		t.Errorf("TLS-only statement %d times:\n%s", n, p.Policy.Value)
	}
}

// The remediator's own writes, replayed as the CloudTrail events they
// cause, cost nothing: no S3 call, no alert.
func TestOwnWritesReplayedCostNothing(t *testing.T) {
	r := newERig(t)
	b := "acme-self"
	r.incident(b)
	r.publicACL(b)
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"s3:PutBucketPolicy": "PutBucketPolicy", "s3:DeleteBucketPolicy": "DeleteBucketPolicy",
		"s3:PutBucketAcl": "PutBucketAcl", "s3:PutPublicAccessBlock": "PutBucketPublicAccessBlock", "s3:PutBucketEncryption": "PutBucketEncryption"}
	var replays [][]byte
	for _, c := range r.e.Proxy.Calls() {
		name, ok := names[string(c.Op)]
		if !ok {
			continue
		}
		replays = append(replays, r.event(name, b, func(d map[string]any) {
			d["eventName"] = name
			d["eventID"] = "self-" + name
			d["userIdentity"] = map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/bucketguard-remediate",
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "arn": roleARN}}}
		}))
	}
	if len(replays) < 4 {
		t.Fatalf("only %d writes to replay", len(replays))
	}
	r.alerts()
	// Undo the fixes, so that a replay that was not skipped would act.
	r.bpa(b, nil)
	r.e.Proxy.Reset()
	for _, raw := range replays {
		if err := r.invoke(raw); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.e.Proxy.Count(); n != 0 {
		t.Errorf("own writes replayed: %d AWS calls, want 0: %v", n, r.e.Proxy.Calls())
	}
	if got := r.alerts(); len(got) != 0 {
		t.Errorf("%d alerts for bucketguard's own writes", len(got))
	}
	if !strings.Contains(r.logs.String(), "change made by bucketguard's own role") {
		t.Error("no skip reason logged")
	}
}

// Malformed and hostile events: a clear error or a correct result, never a
// panic, and never a write based on a misread.
func TestHostileEvents(t *testing.T) {
	r := newERig(t)
	b := "acme-hostile"
	r.incident(b)
	good := r.event("PutBucketPolicy", b)
	mut := func(f func(env, d map[string]any)) []byte {
		var env map[string]any
		r.must(json.Unmarshal(good, &env))
		f(env, env["detail"].(map[string]any))
		out, _ := json.Marshal(env)
		return out
	}
	params := func(d map[string]any) map[string]any { return d["requestParameters"].(map[string]any) }
	hostile := map[string][]byte{
		"truncated":             good[:len(good)/3],
		"not JSON":              []byte("\x00\x01PutBucketPolicy"),
		"huge":                  append(append([]byte(`{"detail":{"pad":"`), bytes.Repeat([]byte("A"), 400*1024)...), []byte(`"}}`)...),
		"eventName a number":    mut(func(_, d map[string]any) { d["eventName"] = 12 }),
		"requestParameters arr": mut(func(_, d map[string]any) { d["requestParameters"] = []any{"x"} }),
		"eventVersion 2.0":      mut(func(_, d map[string]any) { d["eventVersion"] = "2.0" }),
		"envelope version 7":    mut(func(env, _ map[string]any) { env["version"] = "7" }),
		"unicode bucket":        mut(func(_, d map[string]any) { params(d)["bucketName"] = "acme-hostïle" }),
		"path in bucket":        mut(func(_, d map[string]any) { params(d)["bucketName"] = "../acme-hostile" }),
		"bucket an object":      mut(func(_, d map[string]any) { params(d)["bucketName"] = map[string]any{"a": 1} }),
		"bad time":              mut(func(_, d map[string]any) { d["eventTime"] = "soon" }),
		"deep nesting":          []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)),
	}
	r.e.Proxy.Reset()
	for name, raw := range hostile {
		err := r.invoke(raw)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := r.e.Proxy.Count(); n != 0 {
		t.Errorf("hostile events caused %d AWS calls: %v", n, r.e.Proxy.Calls())
	}
	if got := r.alerts(); len(got) != 0 {
		t.Errorf("%d alerts for hostile input", len(got))
	}
	// A well-formed event for a bucket whose policy is hostile in content:
	// Unicode Sids, at S3's 20 KB limit, one public statement among many.
	var stmts []string
	for i := 0; len(strings.Join(stmts, ",")) < 19500; i++ {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"Partner%03d✓ünï","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%d:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/p%03d/*"}`, i, 400000000000+i, b, i))
	}
	stmts = append(stmts[:len(stmts)-1], `{"Sid":"Öffentlich 🌍","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+b+`/*"}`)
	big := policyDoc(stmts...)
	r.policy(b, big)
	if err := r.invoke(good); err != nil {
		t.Fatal(err)
	}
	p := r.posture(b)
	d, err := policy.Parse([]byte(p.Policy.Value))
	r.must(err)
	if policy.Judge(d).Public || strings.Contains(p.Policy.Value, "Öffentlich") {
		t.Errorf("public statement kept in the 20 KB policy")
	}
	if len(d.Statements) < len(stmts)-1 {
		t.Errorf("%d statements left of %d: a legitimate one was lost", len(d.Statements), len(stmts)-1)
	}
	for _, s := range stmts[:len(stmts)-1] {
		keeps(t, p, s)
	}
}

// A policy that opens the bucket and denies bucketguard the tag
// read (moto does not evaluate bucket policies, so the proxy answers the
// 403 the Deny would cause). bucketguard cannot tell whether public read is
// approved: it keeps the statement but turns RestrictPublicBuckets on, says
// which of its calls the Deny refuses, as a critical finding, and reports
// the incident as partial, not remediated.
func TestTamperingDenyOnTheEmulator(t *testing.T) {
	r := newERig(t)
	b := "acme-tampered"
	r.bucket(b)
	hide := `{"Sid":"HideFromRemediator","Effect":"Deny","Principal":"*","Action":"s3:GetBucketTagging","Resource":"arn:aws:s3:::` + b + `","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/bucketguard/*"}}}`
	r.policy(b, policyDoc(publicReadStmt(b), hide, tlsStmt(b)))
	r.e.Proxy.Add(&emulator.Rule{Op: "s3:GetBucketTagging", Bucket: b, Status: 403, Code: "AccessDenied", Message: "Access Denied"})
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatalf("invoke: %v\n%s", err, r.logs.String())
	}
	p := r.posture(b)
	if p.BucketBPA.State != posture.Set || !p.BucketBPA.Value.RestrictPublicBuckets || !p.BucketBPA.Value.BlockPublicAcls {
		t.Errorf("BPA after %+v: RestrictPublicBuckets must close the kept statement", p.BucketBPA)
	}
	keeps(t, p, publicReadStmt(b))
	keeps(t, p, hide)
	d := r.onlyAlert()
	if d.Status != contract.Partial || d.Severity != "critical" {
		t.Errorf("status %s severity %s, want partial critical", d.Status, d.Severity)
	}
	var ids []string
	for _, f := range d.Findings {
		ids = append(ids, string(f.ID))
	}
	if !slices.Contains(ids, string(plan.DeniesBucketguard)) || !slices.Contains(ids, string(plan.TagsUnreadable)) {
		t.Errorf("findings %v", ids)
	}
}

// The owner adds a NewPartner statement between bucketguard's
// posture read and its write (the proxy makes the change just before the
// policy is read again). The fix is planned again from the new policy: the
// public statement goes, NewPartner survives, and the alert says a
// concurrent change was seen.
func TestConcurrentPolicyChangeSurvivesOnTheEmulator(t *testing.T) {
	r := newERig(t)
	b := "acme-busy"
	r.incident(b)
	newPartner := `{"Sid":"NewPartner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}`
	r.e.Proxy.Add(&emulator.Rule{Op: "s3:GetBucketPolicy", Attempts: []int{2}, Before: func() {
		if _, err := r.e.Direct.S3.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String(b),
			Policy: aws.String(policyDoc(crossAccountStmt(b), publicReadStmt(b), newPartner))}); err != nil {
			t.Errorf("concurrent change: %v", err)
		}
	}})
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatalf("invoke: %v\n%s", err, r.logs.String())
	}
	p := r.posture(b)
	keeps(t, p, newPartner)
	keeps(t, p, crossAccountStmt(b))
	cleanUnder(t, b, p)
	d := r.onlyAlert()
	var seen bool
	for _, f := range d.Findings {
		seen = seen || f.ID == plan.ConcurrentChange
	}
	if !seen || d.Status != contract.Remediated {
		t.Errorf("status %s, findings %+v: the concurrent change must be told", d.Status, d.Findings)
	}
}

// AWS's second opinion on moto, which implements no IAM Access Analyzer:
// as moto answers, the check is unavailable and the fix goes ahead on
// bucketguard's judgement, said in the alert; with the proxy standing in
// for Access Analyzer and answering FAIL, AWS wins: the disagreement is a
// finding and Block Public Access goes on in full.
func TestSecondOpinionOnTheEmulator(t *testing.T) {
	t.Run("unavailable", func(t *testing.T) {
		r := newERig(t)
		b := "acme-second"
		r.incident(b)
		if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
			t.Fatalf("invoke: %v\n%s", err, r.logs.String())
		}
		d := r.onlyAlert()
		if d.Status != contract.Remediated || !strings.Contains(strings.Join(d.Notes, " "), "bucketguard's judgement alone") {
			t.Errorf("status %s, notes %q", d.Status, d.Notes)
		}
		if r.e.Proxy.Count("access-analyzer:CheckNoPublicAccess") == 0 {
			t.Error("AWS's check was never asked")
		}
	})
	t.Run("AWS says public", func(t *testing.T) {
		r := newERig(t)
		b := "acme-second"
		r.incident(b)
		r.e.Proxy.Add(&emulator.Rule{Op: "access-analyzer:CheckNoPublicAccess",
			Answer: `{"result":"FAIL","message":"The resource policy grants public access for the access type.","reasons":[{"description":"Public access granted in the following statement with index: 0.","statementIndex":0}]}`})
		if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
			t.Fatalf("invoke: %v\n%s", err, r.logs.String())
		}
		p := r.posture(b)
		if p.BucketBPA.State != posture.Set || p.BucketBPA.Value != posture.AllOn {
			t.Errorf("Block Public Access %+v, want all four on", p.BucketBPA)
		}
		d := r.onlyAlert()
		found := false
		for _, f := range d.Findings {
			found = found || (f.ID == plan.AWSJudgesFixPublic && strings.Contains(f.Summary, "statement with index: 0"))
		}
		if !found {
			t.Errorf("findings %+v", d.Findings)
		}
	})
}
