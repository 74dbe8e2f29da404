package securityhub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
	sh "github.com/bucketguard/bucketguard/remediations/securityhub"
)

// analyst sets a finding's workflow by hand, as in the console.
func (h *hub) analyst(id string, w types.WorkflowStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.findings[id]
	f.Workflow = &types.Workflow{Status: w}
	h.findings[id] = f
}

// With the ledger's memory, a workflow is set exactly when bucketguard's own
// view of the exposure changes: an approval that stays expired leaves an
// analyst's NOTIFIED alone, and an approved bucket found public by a sweep
// that never saw the approval go is NEW again, not left SUPPRESSED.
func TestWorkflowFollowsWhatBucketguardKnows(t *testing.T) {
	until := t0.Add(-time.Hour)
	expired := remediations.Result{Target: target("acme"), Mode: config.Notify, Status: contract.Notified, Run: "run-1",
		Findings:  []plan.Finding{{ID: plan.ApprovalExpired, Severity: plan.Medium}, publicRead()},
		Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Expired, Until: &until}}
	approved := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Clean, Run: "run-1",
		Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Used: true, KeptStatements: []int{1}}}
	public := remediations.Result{Target: target("acme"), Mode: config.Notify, Status: contract.Notified, Run: "run-2", Findings: []plan.Finding{publicRead()}}
	clean := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Clean, Run: "run-3"}
	id := sh.IDs(public)[0]

	type step struct {
		res     remediations.Result
		analyst types.WorkflowStatus // set by hand before the step, when not ""
		want    types.WorkflowStatus
		updates int // BatchUpdateFindings the step sends
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"an approval that stays expired", []step{
			{res: expired, want: types.WorkflowStatusNew, updates: 1},
			{res: expired, analyst: types.WorkflowStatusNotified, want: types.WorkflowStatusNotified},
			{res: expired, want: types.WorkflowStatusNotified},
		}},
		{"approved, then public without the removal seen", []step{
			{res: approved, want: types.WorkflowStatusSuppressed, updates: 1},
			{res: public, want: types.WorkflowStatusNew, updates: 1},
			{res: public, analyst: types.WorkflowStatusNotified, want: types.WorkflowStatusNotified},
		}},
		{"approved, then clean without a trigger", []step{
			{res: approved, want: types.WorkflowStatusSuppressed, updates: 1},
			{res: clean, want: types.WorkflowStatusResolved, updates: 1},
			{res: clean, want: types.WorkflowStatusResolved},
		}},
		{"public, then approved by the sweep's reading", []step{
			{res: public, want: types.WorkflowStatusNew, updates: 1},
			{res: approved, want: types.WorkflowStatusSuppressed, updates: 1},
			{res: approved, analyst: types.WorkflowStatusNotified, want: types.WorkflowStatusNotified},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := &clock{now: t0}
			h := newHub(cl)
			f := fake.New()
			r := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: f.Store(), Now: cl.Now, Sleep: cl.Sleep}
			var logs bytes.Buffer
			for i, s := range c.steps {
				if s.analyst != "" {
					h.analyst(id, s.analyst)
				}
				before := len(h.updates)
				cl.Sleep(context.Background(), time.Minute) // each evaluation is later than the last
				r.Report(context.Background(), s.res, logger(&logs))
				got := h.finding(id).Workflow.Status
				if got != s.want || len(h.updates)-before != s.updates {
					t.Errorf("step %d: workflow %s with %d update(s), want %s with %d", i+1, got, len(h.updates)-before, s.want, s.updates)
				}
			}
			if logs.Len() != 0 {
				t.Errorf("unexpected log: %s", logs.String())
			}
		})
	}

	// What the memory keeps: the state while it is not clean, nothing once
	// it is.
	f := fake.New()
	st := f.Store()
	tick := t0
	r := &sh.Reporter{Client: newHub(nil), Region: "eu-west-1", Memory: st, Now: func() time.Time { tick = tick.Add(time.Minute); return tick }}
	var logs bytes.Buffer
	r.Report(context.Background(), expired, logger(&logs))
	if s, _, _, _ := st.FindingState(context.Background(), id); s != string(sh.Expired) {
		t.Errorf("kept %q after an expired approval, want %q", s, sh.Expired)
	}
	r.Report(context.Background(), clean, logger(&logs))
	if s, _, _, _ := st.FindingState(context.Background(), id); s != "" {
		t.Errorf("kept %q for a clean finding, want nothing", s)
	}
}

// A memory that cannot be read is said (report-failed), and the
// evaluation's own changes stand: the workflow is never left unset.
func TestUnreadableMemoryFallsBackToTheEvaluation(t *testing.T) {
	h := newHub(nil)
	f := fake.New()
	f.Fault = fake.FailOp(op.GetItem, errors.New("ProvisionedThroughputExceededException"))
	r := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: f.Store()}
	var logs bytes.Buffer
	fixed := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Remediated, Findings: []plan.Finding{publicRead()},
		Actions: []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}}
	r.Report(context.Background(), fixed, logger(&logs))
	if got := h.finding(sh.IDs(fixed)[0]).Workflow.Status; got != types.WorkflowStatusResolved || len(h.updates) != 1 {
		t.Errorf("workflow %s, %d updates", got, len(h.updates))
	}
	if !strings.Contains(logs.String(), contract.MsgReportFailed) || !strings.Contains(logs.String(), "GetItem") {
		t.Errorf("no report-failed line for the memory: %s", logs.String())
	}
}

// A bucket's access point the event could not resolve to its bucket (not
// judged, or gone) gives no finding: it is reported under its bucket's Id by
// the bucket's evaluation, never as a stray PASSED one.
func TestUnresolvedAccessPointGivesNoFinding(t *testing.T) {
	ap := target("")
	ap.AccessPoint = &posture.AccessPointRef{Kind: posture.BucketAccessPoint, Name: "acme-ap"}
	for _, res := range []remediations.Result{
		{Target: ap, Mode: config.Enforce, Status: contract.Failed, Findings: []plan.Finding{{ID: plan.AccessPointUnresolved, Severity: plan.High, Summary: "it was not judged"}}},
		{Target: ap, Mode: config.Enforce, Status: contract.Clean},
	} {
		if recs := sh.Records(res); len(recs) != 0 {
			t.Errorf("%s: records %+v", res.Status, recs)
		}
	}
	olap := target("")
	olap.AccessPoint = &posture.AccessPointRef{Kind: posture.ObjectLambdaAccessPoint, Name: "acme-olap"}
	if recs := sh.Records(remediations.Result{Target: olap, Mode: config.Enforce, Status: contract.Clean}); len(recs) != 1 {
		t.Errorf("an Object Lambda access point's own finding: %+v", recs)
	}
}

// Reconcile archives every finding kept as not clean of a bucket S3 says is
// gone, its access points' too, and of an access point gone from a bucket
// that exists; their states are dropped. What exists, or what S3 cannot
// tell about, is left as it is; the Object Lambda and Multi-Region Access
// Points' findings are not a bucket's; another region's are not asked about.
func TestReconcileArchivesTheFindingsOfGoneBuckets(t *testing.T) {
	ctx := context.Background()
	f := fake.New()
	st := f.Store()
	const p = "bucketguard/111122223333/eu-west-1/"
	kept := map[string]string{
		p + "gone-bucket/public-policy":                                           "public",
		p + "gone-bucket/access-point/gone-ap/public-access-point-policy":         "public",
		p + "kept-bucket/public-acl":                                              "approved",
		p + "kept-bucket/access-point/gone-ap-of-kept/public-access-point-policy": "unjudged",
		p + "kept-bucket/access-point/live-ap/public-access-point-policy":         "public",
		p + "unsure-bucket/public-policy":                                         "expired",
		p + "multi-region/acme-global/public-access-point-policy":                 "public",
		"bucketguard/111122223333/us-east-1/other-region/public-policy":           "public",
	}
	for id, s := range kept {
		if _, err := st.SetFindingState(ctx, id, s, t0, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
	}
	archived := map[string]bool{
		p + "gone-bucket/public-policy": true, p + "gone-bucket/access-point/gone-ap/public-access-point-policy": true,
		p + "kept-bucket/access-point/gone-ap-of-kept/public-access-point-policy": true,
	}
	h := newHub(nil)
	r := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: func() time.Time { return t0.Add(time.Hour) }}
	var mu sync.Mutex
	var asked []string
	exists := func(_ context.Context, b, ap string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if ap != "" {
			asked = append(asked, b+"/"+ap)
			return ap != "gone-ap-of-kept", nil
		}
		asked = append(asked, b)
		switch b {
		case "gone-bucket":
			return false, nil
		case "unsure-bucket":
			return false, errors.New("SlowDown")
		}
		return true, nil
	}
	var logs bytes.Buffer
	if n := r.Reconcile(ctx, account, "eu-west-1", exists, logger(&logs)); n != len(archived) {
		t.Errorf("%d findings archived, want %d", n, len(archived))
	}
	slices.Sort(asked)
	if want := []string{"gone-bucket", "kept-bucket", "kept-bucket/gone-ap-of-kept", "kept-bucket/live-ap", "unsure-bucket"}; !slices.Equal(asked, want) {
		t.Errorf("asked S3 about %v, want %v", asked, want)
	}
	for id := range kept {
		got := h.finding(id)
		if archived[id] && (got.RecordState != types.RecordStateArchived || aws.ToString(got.Title) == "") {
			t.Errorf("%s: %s %q, want archived", id, got.RecordState, aws.ToString(got.Title))
		}
		if !archived[id] && got.Id != nil {
			t.Errorf("%s imported, though it was not found gone", id)
		}
		s, _, _, _ := st.FindingState(ctx, id)
		if archived[id] != (s == "") {
			t.Errorf("%s: state %q kept", id, s)
		}
	}
	if !strings.Contains(logs.String(), "SlowDown") {
		t.Errorf("the bucket S3 could not tell about is not said: %s", logs.String())
	}
	// A report of the gone bucket flushed late (older than the archive)
	// changes nothing: Security Hub ignores it, and no state comes back.
	late := remediations.Result{Target: target("gone-bucket"), Mode: config.Notify, Status: contract.Notified, Findings: []plan.Finding{publicRead()}}
	(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: func() time.Time { return t0.Add(time.Minute) }}).Report(ctx, late, logger(&logs))
	if got := h.finding(p + "gone-bucket/public-policy"); got.RecordState != types.RecordStateArchived {
		t.Errorf("a late report reopened an archived finding: %s", got.RecordState)
	}
	if s, _, _, _ := st.FindingState(ctx, p+"gone-bucket/public-policy"); s != "" {
		t.Errorf("a late report kept %q again", s)
	}
	// Without a memory there is nothing to reconcile, and S3 is not asked.
	asked = nil
	if n := (&sh.Reporter{Client: h, Region: "eu-west-1"}).Reconcile(ctx, account, "eu-west-1", exists, logger(&logs)); n != 0 || asked != nil {
		t.Errorf("without memory: %d archived, asked %v", n, asked)
	}
}

// The workflow heals where the memory could not keep a state, and a report
// flushed late changes nothing.
func TestWorkflowSurvivesLostAndLateStates(t *testing.T) {
	ctx := context.Background()
	approved := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Clean, Run: "run-1",
		Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Used: true, KeptStatements: []int{1}}}
	public := remediations.Result{Target: target("acme"), Mode: config.Notify, Status: contract.Notified, Run: "run-2", Findings: []plan.Finding{publicRead()}}
	clean := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Clean, Run: "run-0"}
	id := sh.IDs(public)[0]

	t.Run("a state that could not be kept", func(t *testing.T) {
		cl := &clock{now: t0}
		h := newHub(cl)
		f := fake.New()
		r := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: f.Store(), Now: cl.Now, Sleep: cl.Sleep}
		var logs bytes.Buffer
		f.Fault = fake.FailOp(op.PutItem, errors.New("ProvisionedThroughputExceededException"))
		r.Report(ctx, approved, logger(&logs))
		f.Fault = nil
		cl.Sleep(ctx, time.Minute)
		r.Report(ctx, public, logger(&logs))
		if got := h.finding(id); got.Workflow.Status != types.WorkflowStatusNew || got.Compliance.Status != types.ComplianceStatusFailed {
			t.Errorf("approved (state lost), then public: %s/%s, want FAILED/NEW", got.Compliance.Status, got.Workflow.Status)
		}
		if !strings.Contains(logs.String(), contract.MsgReportFailed) {
			t.Errorf("the lost state is not said: %s", logs.String())
		}
	})
	t.Run("clean, then approved without an event", func(t *testing.T) {
		cl := &clock{now: t0}
		h := newHub(cl)
		r := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: fake.New().Store(), Now: cl.Now, Sleep: cl.Sleep}
		var logs bytes.Buffer
		r.Report(ctx, clean, logger(&logs))
		cl.Sleep(ctx, time.Minute)
		r.Report(ctx, approved, logger(&logs))
		if got := h.finding(id); got.Workflow.Status != types.WorkflowStatusSuppressed {
			t.Errorf("clean, then approved: %s, want SUPPRESSED", got.Workflow.Status)
		}
	})
	t.Run("a sweep's batch flushed after a newer event", func(t *testing.T) {
		h := newHub(nil)
		st := fake.New().Store()
		var now time.Time
		clockAt := func() time.Time { return now }
		sweep := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Batch: true, Now: clockAt}
		event := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: clockAt}
		var logs bytes.Buffer
		now = t0
		sweep.Report(ctx, approved, logger(&logs)) // evaluated, held for the batch
		now = t0.Add(time.Minute)
		event.Report(ctx, public, logger(&logs)) // the approval's removal, told at once
		now = t0.Add(2 * time.Minute)
		before := len(h.updates)
		sweep.Flush(ctx, logger(&logs))
		if got := h.finding(id); got.Workflow.Status != types.WorkflowStatusNew || got.Compliance.Status != types.ComplianceStatusFailed || len(h.updates) != before {
			t.Errorf("after the late flush: %s/%s, %d updates", got.Compliance.Status, got.Workflow.Status, len(h.updates)-before)
		}
		if s, _, _, _ := st.FindingState(ctx, id); s != string(sh.Public) {
			t.Errorf("state %q after the late flush, want public", s)
		}
	})
}

// notYet answers every update FindingNotFound, as Security Hub may just
// after the import that created the finding.
type notYet struct{ *hub }

func (n notYet) BatchUpdateFindings(_ context.Context, in *securityhub.BatchUpdateFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	out := &securityhub.BatchUpdateFindingsOutput{}
	for _, id := range in.FindingIdentifiers {
		out.UnprocessedFindings = append(out.UnprocessedFindings, types.BatchUpdateFindingsUnprocessedFinding{FindingIdentifier: &id, ErrorCode: aws.String("FindingNotFound"), ErrorMessage: aws.String("not found")})
	}
	return out, nil
}

// The update sent with a finding's first import, blind to its workflow, is
// no failure when Security Hub does not see the new finding yet (the import
// set that workflow); an update of a finding whose state is kept is.
func TestFindingNotFoundRightAfterCreationIsNoFailure(t *testing.T) {
	ctx := context.Background()
	h := newHub(nil)
	st := fake.New().Store()
	now := t0
	r := &sh.Reporter{Client: notYet{h}, Region: "eu-west-1", Memory: st, Now: func() time.Time { return now }}
	public := remediations.Result{Target: target("acme"), Mode: config.Notify, Status: contract.Notified, Findings: []plan.Finding{publicRead()}}
	var logs bytes.Buffer
	r.Report(ctx, public, logger(&logs))
	if logs.Len() != 0 {
		t.Errorf("a first import's update said as failed: %s", logs.String())
	}
	if s, _, _, _ := st.FindingState(ctx, sh.IDs(public)[0]); s != string(sh.Public) {
		t.Errorf("state %q, want public", s)
	}
	approved := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Clean,
		Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Used: true, KeptStatements: []int{1}}}
	now = t0.Add(time.Minute)
	r.Report(ctx, approved, logger(&logs))
	if !strings.Contains(logs.String(), contract.MsgReportFailed) || !strings.Contains(logs.String(), "FindingNotFound") {
		t.Errorf("a kept finding's failed update is not said: %s", logs.String())
	}
}

// holdSuppressed holds the first SUPPRESSED update until released, as a
// slow request would be.
type holdSuppressed struct {
	*hub
	once     sync.Once
	held     chan struct{}
	released chan struct{}
}

func (h *holdSuppressed) BatchUpdateFindings(ctx context.Context, in *securityhub.BatchUpdateFindingsInput, o ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	if in.Workflow != nil && in.Workflow.Status == types.WorkflowStatusSuppressed {
		h.once.Do(func() {
			close(h.held)
			<-h.released
		})
	}
	return h.hub.BatchUpdateFindings(ctx, in, o...)
}

// Two reports of one finding racing (a sweep's and an event's) end with the
// newer one's workflow, whichever update Security Hub applies last; and a
// newer report of the same state moves the kept time, so that an older one
// flushed after it changes nothing.
func TestRacingReportsEndWithTheNewer(t *testing.T) {
	ctx := context.Background()
	approved := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Clean, Run: "run-1",
		Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Used: true, KeptStatements: []int{1}}}
	public := remediations.Result{Target: target("acme"), Mode: config.Notify, Status: contract.Notified, Findings: []plan.Finding{publicRead()}}
	fixed := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Remediated, Run: "run-2", Findings: []plan.Finding{publicRead()},
		Actions: []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}}
	id := sh.IDs(public)[0]

	t.Run("an older update applied last", func(t *testing.T) {
		h := &holdSuppressed{hub: newHub(nil), held: make(chan struct{}), released: make(chan struct{})}
		st := fake.New().Store()
		var logs bytes.Buffer
		sweep := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: func() time.Time { return t0 }}
		event := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: func() time.Time { return t0.Add(time.Minute) }}
		done := make(chan struct{})
		go func() {
			defer close(done)
			sweep.Report(ctx, approved, logger(&logs)) // its SUPPRESSED is held in flight
		}()
		<-h.held
		event.Report(ctx, public, logger(&logs)) // the approval's removal, told at once
		close(h.released)                        // the older SUPPRESSED lands last
		<-done
		if got := h.finding(id); got.Workflow.Status != types.WorkflowStatusNew || got.Compliance.Status != types.ComplianceStatusFailed {
			t.Errorf("public bucket's finding %s/%s, want FAILED/NEW", got.Compliance.Status, got.Workflow.Status)
		}
		if s, _, _, _ := st.FindingState(ctx, id); s != string(sh.Public) {
			t.Errorf("kept %q, want public", s)
		}
	})
	t.Run("the same state reported again moves the time", func(t *testing.T) {
		h := newHub(nil)
		st := fake.New().Store()
		var logs bytes.Buffer
		var now time.Time
		clockAt := func() time.Time { return now }
		sweep := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Batch: true, Now: clockAt}
		event := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: clockAt}
		now = t0
		event.Report(ctx, public, logger(&logs))
		now = t0.Add(time.Minute)
		sweep.Report(ctx, fixed, logger(&logs)) // held for the batch
		now = t0.Add(2 * time.Minute)
		event.Report(ctx, public, logger(&logs)) // opened again
		now = t0.Add(5 * time.Minute)
		sweep.Flush(ctx, logger(&logs))
		if got := h.finding(id); got.Workflow.Status != types.WorkflowStatusNew || got.Compliance.Status != types.ComplianceStatusFailed {
			t.Errorf("after the late flush: %s/%s, want FAILED/NEW", got.Compliance.Status, got.Workflow.Status)
		}
	})
}

// Short of time, Reconcile stops asking and keeps the rest of it for the
// imports: every finding it found gone is archived, and the count says how
// many were; the next run goes on with the rest.
func TestReconcileKeepsTimeForItsImports(t *testing.T) {
	st := fake.New().Store()
	const n, perRun = 60, 25
	for i := range n {
		if _, err := st.SetFindingState(context.Background(), fmt.Sprintf("bucketguard/111122223333/eu-west-1/gone-%03d/public-policy", i), "public", t0, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
	}
	h := newHub(nil)
	r := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: func() time.Time { return t0.Add(time.Hour) }}
	// S3 answers perRun questions a run at once, then no more before the
	// time for asking is over.
	var answered atomic.Int64
	exists := func(ctx context.Context, _, _ string) (bool, error) {
		if answered.Add(1) <= perRun {
			return false, nil
		}
		<-ctx.Done()
		return false, ctx.Err()
	}
	archived := func() int {
		c := 0
		for i := range n {
			if h.finding(fmt.Sprintf("bucketguard/111122223333/eu-west-1/gone-%03d/public-policy", i)).RecordState == types.RecordStateArchived {
				c++
			}
		}
		return c
	}
	var logs bytes.Buffer
	total := 0
	for run := 1; run <= 5 && total < n; run++ {
		answered.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		got := r.Reconcile(ctx, account, "eu-west-1", exists, logger(&logs))
		cancel()
		total += got
		if got == 0 || archived() != total {
			t.Fatalf("run %d: %d said archived, %d archived in all (%d said so far)", run, got, archived(), total)
		}
	}
	if total != n {
		t.Errorf("%d of %d archived after the runs", total, n)
	}
}

// gate holds the first import (or update) a test picks until released.
type gate struct {
	*hub
	pickImport func(*securityhub.BatchImportFindingsInput) bool
	pickUpdate func(*securityhub.BatchUpdateFindingsInput) bool
	failAfter  bool // a picked update is applied, then answered with an error
	once       sync.Once
	held       chan struct{}
	released   chan struct{}
}

func newGate(h *hub) *gate {
	return &gate{hub: h, held: make(chan struct{}), released: make(chan struct{})}
}

func (g *gate) hold() {
	g.once.Do(func() {
		close(g.held)
		<-g.released
	})
}

func (g *gate) BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, o ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	if g.pickImport != nil && g.pickImport(in) {
		g.hold()
	}
	return g.hub.BatchImportFindings(ctx, in, o...)
}

func (g *gate) BatchUpdateFindings(ctx context.Context, in *securityhub.BatchUpdateFindingsInput, o ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	if g.pickUpdate != nil && g.pickUpdate(in) {
		g.hold()
		out, err := g.hub.BatchUpdateFindings(ctx, in, o...)
		if g.failAfter {
			return nil, errors.New("RequestTimeout: the answer was lost")
		}
		return out, err
	}
	return g.hub.BatchUpdateFindings(ctx, in, o...)
}

// Two reports crossing in the other orders end with the newer one's
// workflow too: an older report that runs whole while the newer one's
// import is in flight, and an older update that lands after the newer one
// though its caller saw it fail.
func TestCrossingReportsEndWithTheNewer(t *testing.T) {
	ctx := context.Background()
	approved := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Clean, Run: "run-1",
		Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Used: true, KeptStatements: []int{1}}}
	public := remediations.Result{Target: target("acme"), Mode: config.Notify, Status: contract.Notified, Findings: []plan.Finding{publicRead()}}
	id := sh.IDs(public)[0]
	hidden := func(t *testing.T, h *hub) {
		t.Helper()
		if got := h.finding(id); got.Workflow.Status != types.WorkflowStatusNew || got.Compliance.Status != types.ComplianceStatusFailed {
			t.Errorf("public bucket's finding %s/%s, want FAILED/NEW", got.Compliance.Status, got.Workflow.Status)
		}
	}
	at := func(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }

	t.Run("the older report runs whole during the newer one's import", func(t *testing.T) {
		h := newHub(nil)
		st := fake.New().Store()
		var logs bytes.Buffer
		(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(0)}).Report(ctx, public, logger(&logs))
		g := newGate(h)
		first := true
		g.pickImport = func(in *securityhub.BatchImportFindingsInput) bool {
			if in.Findings[0].Compliance.Status == types.ComplianceStatusFailed && first {
				first = false
				return true
			}
			return false
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			(&sh.Reporter{Client: g, Region: "eu-west-1", Memory: st, Now: at(2 * time.Minute)}).Report(ctx, public, logger(&logs))
		}()
		<-g.held
		(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(time.Minute)}).Report(ctx, approved, logger(&logs))
		close(g.released)
		<-done
		hidden(t, h)
		(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(time.Hour)}).Report(ctx, public, logger(&logs))
		hidden(t, h)
	})
	t.Run("an older update lands late though it failed", func(t *testing.T) {
		h := newHub(nil)
		st := fake.New().Store()
		var logs bytes.Buffer
		g := newGate(h)
		g.failAfter = true
		g.pickUpdate = func(in *securityhub.BatchUpdateFindingsInput) bool {
			return in.Workflow != nil && in.Workflow.Status == types.WorkflowStatusSuppressed
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			(&sh.Reporter{Client: g, Region: "eu-west-1", Memory: st, Now: at(time.Minute)}).Report(ctx, approved, logger(&logs))
		}()
		<-g.held
		(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(2 * time.Minute)}).Report(ctx, public, logger(&logs))
		close(g.released)
		<-done
		hidden(t, h)
	})
}

// A finding whose first report already closes it (fixed at once, or a
// change that left nothing public) is set blind too: FindingNotFound right
// after its creation is no failure, with or without the ledger.
func TestFirstReportThatClosesIsNoFailure(t *testing.T) {
	ctx := context.Background()
	fixed := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Remediated, Findings: []plan.Finding{publicRead()},
		Actions: []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}}
	for name, memory := range map[string]sh.Memory{"with the ledger": fake.New().Store(), "without": nil} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			(&sh.Reporter{Client: notYet{newHub(nil)}, Region: "eu-west-1", Memory: memory}).Report(ctx, fixed, logger(&logs))
			if logs.Len() != 0 {
				t.Errorf("said as failed: %s", logs.String())
			}
		})
	}
}

// interfering writes an older report's state (and imports it) before each
// of the first n writes it passes on, as reports of the same finding
// crossing this one would.
type interfering struct {
	sh.Memory
	n      int
	before func(i int)
}

func (m *interfering) SetFindingState(ctx context.Context, id, state string, at, prev time.Time, sent bool) (bool, error) {
	if m.n > 0 {
		m.n--
		m.before(m.n)
	}
	return m.Memory.SetFindingState(ctx, id, state, at, prev, sent)
}

// However many older reports cross it, the newest report's state and
// workflow win; a report that Reconcile makes after it asked S3 does not
// archive what was reported public after the question; and two first
// reports crossing make no report-failed line.
func TestTheNewestReportWins(t *testing.T) {
	ctx := context.Background()
	approved := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Clean, Run: "run-1",
		Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Used: true, KeptStatements: []int{1}}}
	public := remediations.Result{Target: target("acme"), Mode: config.Notify, Status: contract.Notified, Findings: []plan.Finding{publicRead()}}
	fixed := remediations.Result{Target: target("acme"), Mode: config.Enforce, Status: contract.Remediated, Findings: []plan.Finding{publicRead()},
		Actions: []remediations.ActionResult{fix(plan.RemovePublicPolicyStatements, remediations.Verified)}}
	id := sh.IDs(public)[0]
	at := func(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }

	t.Run("many older reports crossing", func(t *testing.T) {
		h := newHub(nil)
		st := fake.New().Store()
		var logs bytes.Buffer
		(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(0)}).Report(ctx, public, logger(&logs))
		m := &interfering{Memory: st, n: 6}
		m.before = func(i int) {
			(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(time.Duration(6-i) * time.Minute)}).Report(ctx, approved, logger(&logs))
		}
		(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: m, Now: at(10 * time.Minute)}).Report(ctx, public, logger(&logs))
		if got := h.finding(id); got.Workflow.Status != types.WorkflowStatusNew || got.Compliance.Status != types.ComplianceStatusFailed {
			t.Errorf("public bucket's finding %s/%s, want FAILED/NEW", got.Compliance.Status, got.Workflow.Status)
		}
		if s, when, _, _ := st.FindingState(ctx, id); s != string(sh.Public) || !when.Equal(t0.Add(10*time.Minute)) {
			t.Errorf("kept %q as of %v", s, when)
		}
	})
	t.Run("public again after Reconcile asked", func(t *testing.T) {
		h := newHub(nil)
		st := fake.New().Store()
		var logs bytes.Buffer
		(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(0)}).Report(ctx, public, logger(&logs))
		r := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(time.Hour)}
		exists := func(context.Context, string, string) (bool, error) {
			// Gone when asked; made again, public, and reported at once.
			(&sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: at(time.Hour + time.Minute)}).Report(ctx, public, logger(&logs))
			return false, nil
		}
		if n := r.Reconcile(ctx, account, "eu-west-1", exists, logger(&logs)); n != 0 {
			t.Errorf("%d archived", n)
		}
		if got := h.finding(id); got.RecordState != types.RecordStateActive || got.Compliance.Status != types.ComplianceStatusFailed {
			t.Errorf("the bucket reported public after the question: %s %s", got.RecordState, got.Compliance.Status)
		}
	})
	t.Run("two first reports crossing", func(t *testing.T) {
		h := newHub(nil)
		st := fake.New().Store()
		var logs bytes.Buffer
		older := &sh.Reporter{Client: notYet{h}, Region: "eu-west-1", Memory: st, Now: at(time.Minute)}
		m := &interfering{Memory: st, n: 1}
		m.before = func(int) { older.Report(ctx, public, logger(&logs)) }
		(&sh.Reporter{Client: notYet{h}, Region: "eu-west-1", Memory: m, Now: at(2 * time.Minute)}).Report(ctx, fixed, logger(&logs))
		if logs.Len() != 0 {
			t.Errorf("said as failed: %s", logs.String())
		}
	})
}

// Short of time run after run, Reconcile starts from a different place in
// the order each run: a gone bucket that sorts last is asked about in time.
func TestReconcileReachesEveryNameInTime(t *testing.T) {
	ctx := context.Background()
	st := fake.New().Store()
	for i := range 200 {
		if _, err := st.SetFindingState(ctx, fmt.Sprintf("bucketguard/111122223333/eu-west-1/live-%03d/public-policy", i), "approved", t0, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
	}
	gone := "bucketguard/111122223333/eu-west-1/zz-gone/public-policy"
	if _, err := st.SetFindingState(ctx, gone, "public", t0, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	h := newHub(nil)
	var answered atomic.Int64
	exists := func(ctx context.Context, b, _ string) (bool, error) {
		if answered.Add(1) > 30 { // thirty answers a run, then no more in time
			<-ctx.Done()
			return false, ctx.Err()
		}
		return b != "zz-gone", nil
	}
	var logs bytes.Buffer
	for run := range 40 {
		answered.Store(0)
		r := &sh.Reporter{Client: h, Region: "eu-west-1", Memory: st, Now: func() time.Time { return t0.Add(time.Duration(run+1) * 24 * time.Hour) }}
		c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		r.Reconcile(c, account, "eu-west-1", exists, logger(&logs))
		cancel()
		if h.finding(gone).RecordState == types.RecordStateArchived {
			return
		}
	}
	t.Error("the gone bucket that sorts last was never asked about in 40 runs")
}
