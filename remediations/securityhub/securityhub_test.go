package securityhub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
	sh "github.com/bucketguard/bucketguard/remediations/securityhub"
)

const account = "111122223333"

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func target(b string) posture.Target {
	return posture.Target{Account: account, Region: "eu-west-1", Bucket: b}
}

func publicRead() plan.Finding {
	return plan.Finding{ID: plan.PublicPolicyStatement, Severity: plan.High, Setting: "policy", Summary: "statement 1 grants s3:GetObject to everyone"}
}

func fix(name plan.ActionName, o remediations.Outcome) remediations.ActionResult {
	return remediations.ActionResult{Action: plan.Action{Name: name, Why: "remove public statement(s) 1"}, Outcome: o}
}

// clock is a virtual clock: the pacer sleeps on it, so that a test of
// 10,000 buckets takes no real time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// hub is a counting fake of the two Security Hub calls: it keeps each
// finding's latest import (as Security Hub does, by Id), applies workflow
// and note only at creation or through BatchUpdateFindings, and injects
// faults through its func fields.
type hub struct {
	clock *clock

	mu       sync.Mutex
	imports  []int       // findings a call
	bytes    []int       // request size a call
	at       []time.Time // when each import was admitted
	updates  []*securityhub.BatchUpdateFindingsInput
	findings map[string]types.AwsSecurityFinding

	importErr func(call int) error
	reject    map[string]string // finding Id → error code
}

func newHub(c *clock) *hub { return &hub{clock: c, findings: map[string]types.AwsSecurityFinding{}} }

func (h *hub) BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // as the SDK does on a finished context
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	b, _ := json.Marshal(in)
	h.imports, h.bytes = append(h.imports, len(in.Findings)), append(h.bytes, len(b))
	if h.clock != nil {
		h.at = append(h.at, h.clock.Now())
	}
	if h.importErr != nil {
		if err := h.importErr(len(h.imports)); err != nil {
			return nil, err
		}
	}
	if len(in.Findings) > sh.MaxBatch {
		return nil, &smithy.GenericAPIError{Code: "InvalidInputException", Message: "more than 100 findings"}
	}
	out := &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0), SuccessCount: aws.Int32(0)}
	for _, f := range in.Findings {
		id := aws.ToString(f.Id)
		if code, ok := h.reject[id]; ok {
			out.FailedFindings = append(out.FailedFindings, types.ImportFindingsError{Id: f.Id, ErrorCode: aws.String(code), ErrorMessage: aws.String("rejected")})
			*out.FailedCount++
			continue
		}
		if old, ok := h.findings[id]; ok {
			if !after(f.UpdatedAt, old.UpdatedAt) {
				*out.SuccessCount++ // Security Hub ignores an import no newer than what it holds
				continue
			}
			f.Workflow, f.Note = old.Workflow, old.Note // not updatable by BatchImportFindings
			f.Workflow = &types.Workflow{Status: autoWorkflow(old, f)}
		}
		h.findings[id] = f
		*out.SuccessCount++
	}
	return out, nil
}

func after(a, b *string) bool {
	ta, _ := time.Parse(time.RFC3339Nano, aws.ToString(a))
	tb, _ := time.Parse(time.RFC3339Nano, aws.ToString(b))
	return ta.After(tb)
}

// autoWorkflow is the workflow Security Hub sets itself when an import
// changes a finding: NOTIFIED or RESOLVED back to NEW when it is no longer
// PASSED (or is ACTIVE again), NEW or NOTIFIED to RESOLVED when it becomes
// PASSED or ARCHIVED.
// https://docs.aws.amazon.com/securityhub/latest/userguide/finding-workflow-status.html
func autoWorkflow(old, f types.AwsSecurityFinding) types.WorkflowStatus {
	w := old.Workflow.Status
	wasPassed, passed := old.Compliance.Status == types.ComplianceStatusPassed, f.Compliance.Status == types.ComplianceStatusPassed
	switch {
	case (w == types.WorkflowStatusNotified || w == types.WorkflowStatusResolved) &&
		(wasPassed && !passed || old.RecordState == types.RecordStateArchived && f.RecordState == types.RecordStateActive):
		return types.WorkflowStatusNew
	case (w == types.WorkflowStatusNew || w == types.WorkflowStatusNotified) &&
		(!wasPassed && passed || old.RecordState == types.RecordStateActive && f.RecordState == types.RecordStateArchived):
		return types.WorkflowStatusResolved
	}
	return w
}

func (h *hub) BatchUpdateFindings(_ context.Context, in *securityhub.BatchUpdateFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.updates = append(h.updates, in)
	out := &securityhub.BatchUpdateFindingsOutput{}
	for _, id := range in.FindingIdentifiers {
		f, ok := h.findings[aws.ToString(id.Id)]
		if !ok {
			out.UnprocessedFindings = append(out.UnprocessedFindings, types.BatchUpdateFindingsUnprocessedFinding{FindingIdentifier: &id, ErrorCode: aws.String("FindingNotFound"), ErrorMessage: aws.String("no such finding")})
			continue
		}
		if in.Workflow != nil {
			f.Workflow = &types.Workflow{Status: in.Workflow.Status}
		}
		if in.Note != nil {
			f.Note = &types.Note{Text: in.Note.Text, UpdatedBy: in.Note.UpdatedBy}
		}
		h.findings[aws.ToString(id.Id)] = f
	}
	return out, nil
}

func (h *hub) finding(id string) types.AwsSecurityFinding {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.findings[id]
}

var _ sh.Client = (*hub)(nil)

func logger(buf *bytes.Buffer) *slog.Logger { return slog.New(slog.NewJSONHandler(buf, nil)) }

// The lifecycle of one bucket's policy exposure, each evaluation from what
// bucketguard knows: found public, fixed, approved, expired, gone.
func TestLifecycle(t *testing.T) {
	until := t0.Add(-time.Hour)
	later := t0.Add(24 * time.Hour)
	tagger := &events.Change{EventID: "ev-tag", Name: events.PutBucketTagging, Time: t0, Actor: events.Actor{Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/alice"}}
	cases := []struct {
		name       string
		res        remediations.Result
		state      sh.State
		compliance types.ComplianceStatus
		workflow   types.WorkflowStatus
		changed    bool
		note       string
	}{
		{"found public in notify mode", remediations.Result{Mode: config.Notify, Status: contract.Notified, Findings: []plan.Finding{publicRead()},
			Actions: []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Planned)}},
			sh.Public, types.ComplianceStatusFailed, types.WorkflowStatusNew, false, ""},
		{"fixed and verified", remediations.Result{Mode: config.Enforce, Status: contract.Remediated, Findings: []plan.Finding{publicRead()},
			Actions: []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}},
			sh.Fixed, types.ComplianceStatusPassed, types.WorkflowStatusResolved, true, "fixed by bucketguard: remove-public-policy-statements"},
		{"a fix that did not read back", remediations.Result{Mode: config.Enforce, Status: contract.Partial, Findings: []plan.Finding{publicRead()},
			Actions: []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Unverified)}},
			sh.Public, types.ComplianceStatusFailed, types.WorkflowStatusNew, false, ""},
		{"approved by the caller", remediations.Result{Mode: config.Enforce, Status: contract.Reported, Trigger: tagger,
			Findings:  []plan.Finding{{ID: plan.ApprovalGranted, Severity: plan.Info, Summary: "public read approved"}},
			Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Until: &later, Used: true, KeptStatements: []int{1}}},
			sh.Approved, types.ComplianceStatusWarning, types.WorkflowStatusSuppressed, true,
			"approved by arn:aws:iam::111122223333:user/alice until " + later.Format(time.RFC3339)},
		{"approved, seen by the sweep", remediations.Result{Mode: config.Enforce, Status: contract.Clean, Run: "run-1",
			Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Used: true, KeptStatements: []int{1}}},
			sh.Approved, types.ComplianceStatusWarning, types.WorkflowStatusSuppressed, false, "approved by the bucketguard:approved-public tag until no set time (no expiry)"},
		{"approval expired, still public", remediations.Result{Mode: config.Notify, Status: contract.Notified,
			Findings:  []plan.Finding{{ID: plan.ApprovalExpired, Severity: plan.Medium}, publicRead()},
			Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Expired, Until: &until}},
			sh.Expired, types.ComplianceStatusFailed, types.WorkflowStatusNew, true, "the public-read approval expired at " + until.Format(time.RFC3339)},
		{"approval expired, fixed", remediations.Result{Mode: config.Enforce, Status: contract.Remediated,
			Findings: []plan.Finding{{ID: plan.ApprovalExpired, Severity: plan.Medium}, publicRead()},
			Actions:  []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}},
			sh.Fixed, types.ComplianceStatusPassed, types.WorkflowStatusResolved, true, "the public-read approval expired; fixed by bucketguard"},
		{"unreadable policy", remediations.Result{Mode: config.Enforce, Status: contract.Reported,
			Findings: []plan.Finding{{ID: plan.PolicyUnreadable, Severity: plan.High, Summary: "AccessDenied"}}},
			sh.Unjudged, types.ComplianceStatusNotAvailable, types.WorkflowStatusNew, false, ""},
		{"clean", remediations.Result{Mode: config.Enforce, Status: contract.Clean, Run: "run-1"},
			sh.Clean, types.ComplianceStatusPassed, types.WorkflowStatusResolved, false, ""},
		{"closed by the owner's change", remediations.Result{Mode: config.Notify, Status: contract.Clean,
			Trigger: &events.Change{EventID: "ev-del", Name: events.DeleteBucketPolicy, Actor: events.Actor{ARN: "arn:aws:iam::111122223333:user/bob"}}},
			sh.Clean, types.ComplianceStatusPassed, types.WorkflowStatusResolved, true, "nothing public after DeleteBucketPolicy by arn:aws:iam::111122223333:user/bob"},
		{"bucket gone", remediations.Result{Mode: config.Enforce, Status: contract.BucketGone, Findings: []plan.Finding{plan.BucketGoneFinding()}},
			sh.Gone, types.ComplianceStatusNotAvailable, types.WorkflowStatusResolved, false, "the bucket no longer exists"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.res.Target = target("acme-invoices")
			recs := sh.Records(c.res)
			if len(recs) != 2 || recs[0].Kind != sh.PublicPolicy || recs[1].Kind != sh.PublicACL {
				t.Fatalf("records = %+v, want the policy's and the ACL's", recs)
			}
			r := recs[0]
			if r.State != c.state || r.Changed != c.changed || !strings.HasPrefix(r.Note, c.note) {
				t.Errorf("got state %s changed %v note %q, want %s %v %q", r.State, r.Changed, r.Note, c.state, c.changed, c.note)
			}
			f := sh.Finding(c.res, r, sh.ProductARN("aws", "eu-west-1", account), t0)
			if f.Compliance.Status != c.compliance || f.Workflow.Status != c.workflow {
				t.Errorf("got %s/%s, want %s/%s", f.Compliance.Status, f.Workflow.Status, c.compliance, c.workflow)
			}
			wantRecord := types.RecordStateActive
			if c.state == sh.Gone {
				wantRecord = types.RecordStateArchived
			}
			if f.RecordState != wantRecord {
				t.Errorf("record state %s, want %s", f.RecordState, wantRecord)
			}
		})
	}
}

// Every finding has ASFF's required attributes, in its documented forms.
// https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html
func TestFindingRequiredAttributes(t *testing.T) {
	res := remediations.Result{Target: target("acme-invoices"), Mode: config.Enforce, Status: contract.Remediated, Started: t0,
		Trigger:  &events.Change{EventID: "ev-1", Name: events.PutBucketPolicy, Time: t0},
		Findings: []plan.Finding{publicRead(), {ID: plan.PublicAccessPointStatement, Severity: plan.Critical, AccessPoint: "acme-ap", Summary: "public write"}},
		Actions:  []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}}
	recs := sh.Records(res)
	if len(recs) != 3 {
		t.Fatalf("%d records, want the policy's, the ACL's and the access point's", len(recs))
	}
	for _, r := range recs {
		f := sh.Finding(res, r, sh.ProductARN("aws", "eu-west-1", account), t0)
		must := map[string]string{"AwsAccountId": aws.ToString(f.AwsAccountId), "CreatedAt": aws.ToString(f.CreatedAt), "Description": aws.ToString(f.Description),
			"GeneratorId": aws.ToString(f.GeneratorId), "Id": aws.ToString(f.Id), "ProductArn": aws.ToString(f.ProductArn), "SchemaVersion": aws.ToString(f.SchemaVersion),
			"Title": aws.ToString(f.Title), "UpdatedAt": aws.ToString(f.UpdatedAt)}
		for k, v := range must {
			if v == "" {
				t.Errorf("%s: %s missing", r.Kind, k)
			}
		}
		if f.SchemaVersion == nil || *f.SchemaVersion != "2018-10-08" || *f.ProductArn != "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default" {
			t.Errorf("schema %s product %s", aws.ToString(f.SchemaVersion), aws.ToString(f.ProductArn))
		}
		if f.Severity == nil || f.Severity.Label == "" || len(f.Resources) != 1 || f.Resources[0].Type == nil || f.Resources[0].Id == nil {
			t.Errorf("%s: severity or resource missing", r.Kind)
		}
		for _, ty := range f.Types {
			if strings.Count(ty, "/") != 2 || !(strings.HasPrefix(ty, "Software and Configuration Checks/") || strings.HasPrefix(ty, "Effects/")) {
				t.Errorf("type %q is not namespace/category/classifier", ty)
			}
		}
		if f.ProductFields["bucketguard/incident"] != "event/ev-1" {
			t.Errorf("product fields %v", f.ProductFields)
		}
		if _, err := time.Parse(time.RFC3339Nano, *f.UpdatedAt); err != nil {
			t.Error(err)
		}
	}
	ap := sh.Finding(res, recs[2], "p", t0)
	if *ap.Resources[0].Type != "AwsS3AccessPoint" || *ap.Resources[0].Id != "arn:aws:s3:eu-west-1:111122223333:accesspoint/acme-ap" || ap.Severity.Label != types.SeverityLabelCritical {
		t.Errorf("access point resource %s %s %s", *ap.Resources[0].Type, *ap.Resources[0].Id, ap.Severity.Label)
	}
	if *sh.Finding(res, recs[0], "p", t0).Resources[0].Type != "AwsS3Bucket" {
		t.Error("a bucket is not AwsS3Bucket")
	}
}

// The same target and kind give the same Id whatever the evaluation found:
// each import replaces the last.
func TestIDsAreDeterministic(t *testing.T) {
	a := sh.IDs(remediations.Result{Target: target("acme"), Findings: []plan.Finding{publicRead()}, Status: contract.Notified})
	b := sh.IDs(remediations.Result{Target: target("acme"), Status: contract.Clean, Run: "r2"})
	if strings.Join(a, ",") != strings.Join(b, ",") || len(a) != 2 {
		t.Errorf("ids %v and %v", a, b)
	}
	if a[0] != "bucketguard/111122223333/eu-west-1/acme/public-policy" {
		t.Errorf("id %s", a[0])
	}
}

// The event path imports at once, and sets the workflow only for what it
// saw change; a later import never overwrites the analyst's workflow.
func TestEventPathImportsAtOnceAndKeepsWorkflow(t *testing.T) {
	c := &clock{now: t0}
	h := newHub(c)
	r := &sh.Reporter{Client: h, Region: "eu-west-1", Now: c.Now, Sleep: c.Sleep}
	var logs bytes.Buffer
	ctx := context.Background()
	public := remediations.Result{Target: target("acme"), Mode: config.Notify, Status: contract.Notified, Findings: []plan.Finding{publicRead()}}
	r.Report(ctx, public, logger(&logs))
	id := sh.IDs(public)[0]
	if len(h.imports) != 1 || len(h.updates) != 0 || h.finding(id).Workflow.Status != types.WorkflowStatusNew {
		t.Fatalf("imports %v updates %d", h.imports, len(h.updates))
	}
	// An analyst marks it NOTIFIED; the next sweep re-imports it as it is.
	h.findings[id] = func() types.AwsSecurityFinding {
		f := h.findings[id]
		f.Workflow = &types.Workflow{Status: types.WorkflowStatusNotified}
		return f
	}()
	public.Run = "run-2"
	c.Sleep(ctx, time.Minute) // each evaluation is later than the last
	r.Report(ctx, public, logger(&logs))
	if got := h.finding(id).Workflow.Status; got != types.WorkflowStatusNotified || len(h.updates) != 0 {
		t.Errorf("workflow %s after a re-import, updates %d: an analyst's workflow was overwritten", got, len(h.updates))
	}
	fixed := public
	fixed.Mode, fixed.Status, fixed.Actions = config.Enforce, contract.Remediated, []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}
	c.Sleep(ctx, time.Minute)
	r.Report(ctx, fixed, logger(&logs))
	f := h.finding(id)
	if f.Workflow.Status != types.WorkflowStatusResolved || f.Compliance.Status != types.ComplianceStatusPassed || !strings.Contains(aws.ToString(f.Note.Text), "remove-public-policy-statements") {
		t.Errorf("after the fix: %s %s %q", f.Workflow.Status, f.Compliance.Status, aws.ToString(f.Note.Text))
	}
	if len(h.updates) != 1 || len(h.updates[0].FindingIdentifiers) != 1 {
		t.Errorf("updates %d, want one for the fixed finding", len(h.updates))
	}
	if logs.Len() != 0 {
		t.Errorf("unexpected log: %s", logs.String())
	}
}

// A sweep of 10,000 buckets imports within Security Hub's limits: at most
// 100 findings and 6 MB a request, paced at 10 requests a second after a
// burst of 30.
func TestSweepImportsWithinLimits(t *testing.T) {
	c := &clock{now: t0}
	h := newHub(c)
	r := &sh.Reporter{Client: h, Region: "eu-west-1", Batch: true, Now: c.Now, Sleep: c.Sleep}
	var logs bytes.Buffer
	ctx := context.Background()
	const buckets = 10000
	var wg sync.WaitGroup
	work := make(chan int)
	for range 48 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				res := remediations.Result{Target: target(fmt.Sprintf("acme-%05d", i)), Mode: config.Enforce, Status: contract.Clean, Run: "run-1"}
				if i%10 == 0 {
					res.Status, res.Findings = contract.Remediated, []plan.Finding{publicRead()}
					res.Actions = []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}
				}
				r.Report(ctx, res, logger(&logs))
			}
		}()
	}
	for i := range buckets {
		work <- i
	}
	close(work)
	wg.Wait()
	r.Flush(ctx, logger(&logs))
	total := 0
	for i, n := range h.imports {
		total += n
		if n > sh.MaxBatch || h.bytes[i] > sh.MaxRequestSize {
			t.Errorf("call %d: %d findings, %d bytes", i, n, h.bytes[i])
		}
	}
	if total != 2*buckets || len(h.findings) != 2*buckets {
		t.Errorf("imported %d (%d distinct), want %d", total, len(h.findings), 2*buckets)
	}
	if want := 2 * buckets / sh.MaxBatch; len(h.imports) != want {
		t.Errorf("%d import calls, want %d", len(h.imports), want)
	}
	// Pacing: call n is admitted no sooner than (n-Burst)/Rate seconds in.
	for n, at := range h.at {
		if early := time.Duration(float64(n+1-sh.Burst) / sh.Rate * float64(time.Second)); at.Sub(t0) < early-time.Millisecond {
			t.Fatalf("import %d at %s, before %s", n+1, at.Sub(t0), early)
		}
	}
	if r.Pending() != 0 || logs.Len() != 0 {
		t.Errorf("pending %d, log %s", r.Pending(), logs.String())
	}
}

// A rejected import is one log line with the contract's message, never
// silent; the workflow change of a rejected finding is not attempted.
func TestRejectedImportIsLogged(t *testing.T) {
	res := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Remediated, Findings: []plan.Finding{publicRead()},
		Actions: []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}}
	cases := []struct {
		name      string
		hub       func(*hub)
		code      string
		rejected  float64
		noUpdates bool
	}{
		{"Security Hub not enabled", func(h *hub) {
			h.importErr = func(int) error {
				return &smithy.GenericAPIError{Code: "InvalidAccessException", Message: "Account 111122223333 is not subscribed to AWS Security Hub"}
			}
		}, "InvalidAccessException", 2, true},
		{"access denied", func(h *hub) {
			h.importErr = func(int) error {
				return &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}
			}
		}, "AccessDeniedException", 2, true},
		{"failed findings", func(h *hub) {
			h.reject = map[string]string{sh.IDs(res)[0]: "InvalidInput"}
		}, "", 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHub(nil)
			c.hub(h)
			var logs bytes.Buffer
			(&sh.Reporter{Client: h, Region: "eu-west-1"}).Report(context.Background(), res, logger(&logs))
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %s", len(lines), logs.String())
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
				t.Fatal(err)
			}
			if line[contract.FieldMsg] != contract.MsgReportFailed || line[contract.FieldTo] != contract.ToSecurityHub || line["code"] != c.code || line["rejected"] != c.rejected {
				t.Errorf("line %v", line)
			}
			if c.noUpdates && len(h.updates) != 0 {
				t.Errorf("%d updates of findings not imported", len(h.updates))
			}
		})
	}
}
