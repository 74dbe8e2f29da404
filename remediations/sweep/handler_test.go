package sweep_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

const fnARN = "arn:aws:lambda:eu-west-1:111122223333:function:BucketGuard-Sweep"

// invoker records the function's invocations of itself.
type invoker struct {
	mu       sync.Mutex
	payloads [][]byte
}

func (i *invoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if aws.ToString(in.FunctionName) != fnARN || in.InvocationType != "Event" {
		return nil, fake.APIError("InvalidParameterValueException", "bad invoke")
	}
	i.payloads = append(i.payloads, in.Payload)
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

// lambdaInvocation reads the invocation from the Lambda context, as the
// function's main does.
func lambdaInvocation(ctx context.Context) (sweep.Invocation, bool) {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return sweep.Invocation{}, false
	}
	return sweep.Invocation{RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn}, true
}

func lambdaCtx(id string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id, InvokedFunctionArn: fnARN})
}

// wire wires the protocol over the fakes as start-up does, with the ledger
// given (nil: none).
func wire(cfg config.Config, f *fake.Fake, l startup.Ledger) *incident.Protocol {
	cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
	return startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), Ledger: l})
}

func handler(f *fake.Fake, inv *invoker, clock func() time.Time) *sweep.Handler {
	return &sweep.Handler{
		Incidents:  wire(config.Default(), f, nil),
		List:       f.S3(),
		Next:       inv,
		Options:    sweep.Options{Region: "eu-west-1", Concurrency: 2, PageSize: 7, Margin: 10 * time.Minute, Now: clock},
		Invocation: lambdaInvocation,
		MaxParts:   10,
		Log:        quiet,
	}
}

// A run that nears its deadline invokes itself with the position and the
// tally so far; the next part finishes and sends one summary for the run.
func TestHandlerContinuesAcrossInvocations(t *testing.T) {
	f := account(30)
	inv := &invoker{}
	// The clock runs five minutes per bucket started; the deadline is an
	// hour away and the margin ten minutes, so a part starts 11 buckets.
	start := time.Now()
	var mu sync.Mutex
	ticks := 0
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		ticks++
		return start.Add(time.Duration(ticks) * 5 * time.Minute)
	}
	h := handler(f, inv, clock)
	ctx, cancel := context.WithDeadline(lambdaCtx("run-1"), start.Add(time.Hour))
	defer cancel()
	schedule := []byte(`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	if err := h.Handle(ctx, schedule); err != nil {
		t.Fatal(err)
	}
	if len(inv.payloads) != 1 {
		t.Fatalf("%d continuations", len(inv.payloads))
	}
	var ev sweep.Event
	if err := json.Unmarshal(inv.payloads[0], &ev); err != nil || ev.Sweep == nil {
		t.Fatalf("continuation %s: %v", inv.payloads[0], err)
	}
	if ev.Sweep.Run != "run-1" || ev.Sweep.Part != 2 || ev.Sweep.After == "" || ev.Sweep.Tally.Seen == 0 || ev.Sweep.Tally.Seen >= 30 {
		t.Fatalf("continuation %+v", ev.Sweep)
	}
	if n := countKind(f, "sweep-summary"); n != 0 {
		t.Fatalf("summary sent by a part that did not finish")
	}
	// Lambda delivers the continuation to the next invocation.
	if err := h.Handle(lambdaCtx("part-2"), inv.payloads[0]); err != nil {
		t.Fatal(err)
	}
	var summaries []sweep.Summary
	for _, p := range f.Published() {
		if p.Attributes["kind"] == "sweep-summary" {
			var body map[string]string
			json.Unmarshal([]byte(p.Message), &body)
			var s sweep.Summary
			if err := json.Unmarshal([]byte(body["default"]), &s); err != nil {
				t.Fatal(err)
			}
			summaries = append(summaries, s)
			if !strings.Contains(body["email"], "buckets seen            30") {
				t.Errorf("summary text:\n%s", body["email"])
			}
		}
	}
	if len(summaries) != 1 {
		t.Fatalf("%d summaries", len(summaries))
	}
	s := summaries[0]
	if s.Run != "run-1" || s.Parts != 2 || s.Tally.Seen != 30 || s.Tally.Count(contract.Remediated) != 6 || s.Tally.Count(contract.Clean) != 24+s.Tally.AccountLevel || s.Account != fake.Account {
		t.Errorf("summary %+v", s)
	}
	// One alert per fixed bucket, found by the sweep.
	if n := countKind(f, ""); n != 6 {
		t.Errorf("%d bucket alerts, want 6", n)
	}
}

func countKind(f *fake.Fake, kind string) int {
	n := 0
	for _, p := range f.Published() {
		if p.Attributes["kind"] == kind {
			n++
		}
	}
	return n
}

func TestHandlerRejectsStrangeEvents(t *testing.T) {
	f := account(1)
	h := handler(f, &invoker{}, nil)
	if err := h.Handle(lambdaCtx("x"), []byte(`{"detail-type":"AWS API Call via CloudTrail"}`)); err == nil {
		t.Error("a CloudTrail event started a sweep")
	}
	if err := h.Handle(context.Background(), []byte(`{}`)); err == nil {
		t.Error("ran without a Lambda context")
	}
	cont, _ := json.Marshal(sweep.Event{Sweep: &sweep.Continuation{Run: "r", Part: 11}})
	if err := h.Handle(lambdaCtx("x"), cont); err == nil {
		t.Error("a runaway run was not stopped")
	}
}

func TestSummaryNamesFailures(t *testing.T) {
	s := sweep.Summary{Run: "r", Account: fake.Account, Region: "eu-west-1", Mode: "enforce", Parts: 1, Duration: "3s",
		Tally: sweep.Tally{Seen: 3, Statuses: map[contract.Status]int{contract.Clean: 1, contract.Failed: 2}, Failures: []sweep.Failure{{Bucket: "acme-a", Region: "eu-west-1", Reason: "remove-public-acl-grants: AccessDenied: Access Denied"}}}}
	e := s.Envelope()
	if e.Attributes["severity"] != "high" || !strings.Contains(e.Text, "acme-a (eu-west-1): remove-public-acl-grants: AccessDenied") ||
		!strings.Contains(e.Subject, "3 buckets, 0 remediated, 2 failing") || len(e.Subject) >= 100 {
		t.Errorf("%+v", e)
	}
}

// An alert that reaches neither SNS nor a fallback queue is counted in the
// tally (the summary says so) and noted on the bucket's result; the fixes
// stand and the run goes on.
func TestPartCountsUndeliveredAlerts(t *testing.T) {
	f := account(10) // acme-0000 and acme-0005 have a public policy
	f.Fault = fake.FailOp("sns:Publish", fake.APIError("InternalError", "SNS is down"))
	h := handler(f, &invoker{}, nil)
	out, err := h.Part(lambdaCtx("r"), fake.Account, &sweep.Continuation{Run: "r", Part: 1}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if out.Tally.Undelivered != 2 || out.Tally.Count(contract.Remediated) != 2 || out.Tally.Seen != 10 {
		t.Fatalf("tally %+v, want 2 undelivered, 2 remediated of 10", out.Tally)
	}
	if len(f.Published()) != 0 {
		t.Fatalf("%d published while SNS was down", len(f.Published()))
	}
	s := sweep.Summary{Run: "r", Account: fake.Account, Region: "eu-west-1", Mode: "enforce", Parts: 1, Tally: out.Tally}
	if e := s.Envelope(); e.Attributes["severity"] != "high" || !strings.Contains(e.Text, "undelivered alerts      2") {
		t.Errorf("summary does not flag the undelivered alerts:\n%s", e.Text)
	}
}

// Once per run, the home region's sweep
// evaluates the account's Block Public Access and the Multi-Region Access
// Points, every region's its Object Lambda access points, and the home
// region's counts the buckets in regions without a stack.
func TestAccountLevelOncePerRun(t *testing.T) {
	f := account(5) // buckets in eu-west-1 and us-east-1
	f.SetAccountBPA(nil)
	f.PutAccessPoint("redacted", fake.AccessPoint{Kind: posture.ObjectLambdaAccessPoint,
		Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3-object-lambda:GetObject","Resource":"*"}]}`})
	f.PutAccessPoint("acme-global", fake.AccessPoint{Kind: posture.MultiRegionAccessPoint})
	for _, tc := range []struct {
		stacks            []string
		accountLevel, unc int
	}{
		{[]string{"eu-west-1"}, 3, 2},              // home: account BPA, the Object Lambda and the Multi-Region access point; us-east-1 has no stack
		{[]string{"eu-west-1", "us-east-1"}, 3, 0}, // home, every region covered
		{[]string{"us-east-1", "eu-west-1"}, 1, 0}, // not home: its Object Lambda access points only
	} {
		h := handler(f, &invoker{}, nil)
		h.StackRegions = tc.stacks
		h.Incidents.Engine.Config.Mode = config.Notify // report only, so each case sees the same account
		f.Reset()
		if err := h.Handle(lambdaCtx("run-"+strings.Join(tc.stacks, "-")), []byte(`{"detail-type":"Scheduled Event"}`)); err != nil {
			t.Fatal(err)
		}
		var s sweep.Summary
		pub := f.Published()
		if err := json.Unmarshal([]byte(jsonMessage(t, pub[len(pub)-1].Message)), &s); err != nil {
			t.Fatal(err)
		}
		if s.Tally.AccountLevel != tc.accountLevel || s.Tally.Uncovered != tc.unc {
			t.Errorf("stacks %v: account-level %d, uncovered %d; want %d, %d", tc.stacks, s.Tally.AccountLevel, s.Tally.Uncovered, tc.accountLevel, tc.unc)
		}
		if n := f.Count(op.GetAccountPublicAccessBlock); (n == 1) != (tc.accountLevel == 3) {
			t.Errorf("stacks %v: the account's Block Public Access read %d times", tc.stacks, n)
		}
		if tc.unc > 0 && (len(s.Tally.UncoveredBuckets) != 2 || s.Tally.UncoveredBuckets[0].Region != "us-east-1") {
			t.Errorf("uncovered buckets named %+v", s.Tally.UncoveredBuckets)
		}
	}
}

// jsonMessage returns the JSON document of a structured SNS message.
func jsonMessage(t *testing.T, structured string) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(structured), &m); err != nil {
		t.Fatal(err)
	}
	return m["default"]
}

// A part that dies in the middle of a bucket (after
// its policy fix, before its alert) is retried by Lambda with the same
// event; the bucket's journal, kept before its first write, makes the
// retried part tell the incident once, with what the dead part found and
// fixed.
func TestDeadPartsIncidentToldOnceByItsRetry(t *testing.T) {
	f := fake.New()
	name := "acme-0000"
	b := clean(name)
	b.BPA = nil
	b.Policy = emulator.PolicyDoc(emulator.PublicReadStatement(name), emulator.TLSStatement(name))
	f.Put(name, b)
	on := posture.AllOn
	f.SetAccountBPA(&on)
	h := handler(f, &invoker{}, time.Now)
	h.Incidents = wire(config.Default(), f, f.Store())
	h.Options.Concurrency = 1
	var dead atomic.Bool
	f.Fault = func(o op.Operation, _ string, _ int) error {
		if dead.Load() {
			return context.Canceled
		}
		if o == op.PutBucketPolicy {
			dead.Store(true) // the policy fix lands; then the part dies
		}
		return nil
	}
	raw := []byte(`{}`)
	_ = h.Handle(lambdaCtx("part-1"), raw)
	if n := len(f.Published()); n != 0 {
		t.Fatalf("the dead part published %d alerts: %+v", n, f.Published()[0].Attributes)
	}
	// Lambda retries the part with the same event and request id, later.
	f.Fault = nil
	h.Incidents.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if err := h.Handle(lambdaCtx("part-1"), raw); err != nil {
		t.Fatal(err)
	}
	told := 0
	for _, m := range f.Published() {
		if m.Attributes["bucket"] == name && strings.Contains(m.Message, "policy-public-statement") {
			told++
		}
	}
	if told != 1 {
		t.Errorf("the incident was told %d times, want once", told)
	}
}

// A run that would fix more buckets than its budget fixes the most severe
// within it, reports the rest to their owners (saying the budget held),
// and tells the operations topic once; event-driven fixes are not its
// business.
func TestSweepFixBudgetHolds(t *testing.T) {
	f := fake.New()
	on := posture.AllOn
	clean := fake.Bucket{BPA: &on, Encryption: &posture.Encryption{Algorithm: "AES256"},
		Policy: emulator.PolicyDoc(emulator.TLSStatement("x"))}
	for i := range 12 {
		name := fmt.Sprintf("acme-%02d", i)
		b := clean
		b.Policy = emulator.PolicyDoc(emulator.TLSStatement(name))
		switch {
		case i%4 == 3: // critical: public write
			b.Policy = emulator.PolicyDoc(emulator.TLSStatement(name), `{"Sid":"W","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::`+name+`/*"}`)
			b.BPA = nil
		default: // medium: Block Public Access off
			b.BPA = nil
		}
		f.Put(name, b)
	}
	on2 := posture.AllOn
	f.SetAccountBPA(&on2)
	cfg := config.Default()
	cfg.SweepFixBudget, cfg.OpsTopicARN = 3, "arn:aws:sns:eu-west-1:111122223333:ops"
	h := handler(f, &invoker{}, time.Now)
	h.Incidents = wire(cfg, f, f.Store())
	if err := h.Handle(lambdaCtx("run-b"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	fixed := 0
	for i := range 12 {
		b, _ := f.Bucket(fmt.Sprintf("acme-%02d", i))
		if b.BPA != nil {
			fixed++
			if i%4 != 3 {
				t.Errorf("acme-%02d (medium) was fixed before a critical one", i)
			}
		}
	}
	if fixed != 3 {
		t.Fatalf("%d buckets fixed, want the budget's 3", fixed)
	}
	var ops, reported int
	for _, p := range f.Published() {
		switch {
		case p.TopicARN == cfg.OpsTopicARN:
			ops++
			if !strings.Contains(p.Message, "found 12 buckets to fix") {
				t.Errorf("budget notice: %s", p.Message)
			}
		case p.Attributes["kind"] == "" && p.Attributes["status"] == "notified":
			reported++
			if !strings.Contains(p.Message, "BUCKETGUARD_SWEEP_FIX_BUDGET") {
				t.Errorf("a reported bucket's alert does not say the budget held")
			}
		}
	}
	if ops != 1 || reported != 9 {
		t.Errorf("%d budget notices (want 1), %d reported alerts (want 9)", ops, reported)
	}
}
