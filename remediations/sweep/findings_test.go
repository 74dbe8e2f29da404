package sweep_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/securityhub"
	"github.com/bucketguard/bucketguard/remediations/startup"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

// flushes counts the flushes of the sweep's Security Hub reporter.
type flushes struct {
	r       *securityhub.Reporter
	mu      sync.Mutex
	pending []int // findings waiting at each flush
}

func (f *flushes) Flush(ctx context.Context, log *slog.Logger) {
	f.mu.Lock()
	f.pending = append(f.pending, f.r.Pending())
	f.mu.Unlock()
	f.r.Flush(ctx, log)
}

// With Security Hub on, each part of a run flushes the findings it holds
// once, before it ends (nothing waits for a part that may never come), and
// the imports reach Security Hub in batches of at most 100.
func TestFindingsFlushedOncePerPart(t *testing.T) {
	const buckets = 130
	f := account(buckets)
	hub := &fake.SecurityHub{}
	cfg := config.Default()
	cfg.SecurityHub = true
	cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), SecurityHub: hub, Region: "eu-west-1"})
	r := startup.FindingsOf(p)
	if r == nil {
		t.Fatal("no Security Hub reporter wired")
	}
	r.Batch = true // as start-up sets it for the sweep
	fl := &flushes{r: r}
	inv := &invoker{}
	// A minute per tick, an hour to the deadline and ten minutes of
	// margin: the run takes more than one part.
	start := time.Now()
	var mu sync.Mutex
	ticks := 0
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		ticks++
		return start.Add(time.Duration(ticks) * time.Minute)
	}
	h := &sweep.Handler{Incidents: p, List: f.S3(), Next: inv, Findings: fl, Invocation: lambdaInvocation, MaxParts: 20, Log: quiet,
		Options: sweep.Options{Region: "eu-west-1", Concurrency: 2, PageSize: 50, Margin: 10 * time.Minute, Now: clock}}

	payload := []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	parts := 0
	for payload != nil {
		parts++
		if parts > 20 {
			t.Fatal("the run does not end")
		}
		ctx, cancel := context.WithDeadline(lambdaCtx("run-flush"), clock().Add(time.Hour))
		before := len(inv.payloads)
		if err := h.Handle(ctx, payload); err != nil {
			cancel()
			t.Fatal(err)
		}
		cancel()
		if got := len(fl.pending); got != parts {
			t.Fatalf("after part %d: %d flushes, want one a part", parts, got)
		}
		if n := r.Pending(); n != 0 {
			t.Errorf("part %d ended with %d findings pending", parts, n)
		}
		payload = nil
		if len(inv.payloads) > before {
			payload = inv.payloads[len(inv.payloads)-1]
			var ev sweep.Event
			if err := json.Unmarshal(payload, &ev); err != nil || ev.Sweep == nil {
				t.Fatalf("continuation %s: %v", payload, err)
			}
		}
	}
	if parts < 2 {
		t.Fatalf("the run took %d part; the test needs more", parts)
	}
	// Two findings a bucket of the region (policy, ACL), each imported
	// once; batches of at most 100, full ones while a part goes on.
	imports := hub.Imports()
	total, full := 0, 0
	for _, n := range imports {
		if n > securityhub.MaxBatch {
			t.Errorf("an import of %d findings", n)
		}
		if n == securityhub.MaxBatch {
			full++
		}
		total += n
	}
	if total != 2*buckets || len(hub.Findings()) != 2*buckets {
		t.Errorf("%d findings imported (%d kept), want %d", total, len(hub.Findings()), 2*buckets)
	}
	if full == 0 || len(imports) > total/securityhub.MaxBatch+parts {
		t.Errorf("imports %v: not batched", imports)
	}
}

// reconciling is a notify-mode sweep of f with Security Hub and the ledger,
// its findings batched and reconciled as start-up wires them, and a way to
// run it whole.
func reconciling(t *testing.T, f *fake.Fake) (*fake.SecurityHub, *sweep.Handler, func(run string)) {
	t.Helper()
	hub := &fake.SecurityHub{}
	cfg := config.Default()
	cfg.Mode = config.Notify
	cfg.SecurityHub = true
	cfg.LedgerTable = "ledger"
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), SecurityHub: hub, Ledger: f.Store(), Region: "eu-west-1"})
	r := startup.FindingsOf(p)
	r.Batch = true
	h := &sweep.Handler{Incidents: p, List: f.S3(), Next: &invoker{}, Findings: r, Reconciler: r, Invocation: lambdaInvocation, MaxParts: 5, Log: quiet,
		Options: sweep.Options{Region: "eu-west-1", Concurrency: 2, PageSize: 50, Margin: time.Minute}}
	return hub, h, func(run string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(lambdaCtx(run), time.Hour)
		defer cancel()
		if err := h.Handle(ctx, []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)); err != nil {
			t.Fatal(err)
		}
	}
}

// A bucket deleted between two runs is never listed again: the second run's
// reconciliation asks S3 about the buckets whose findings are kept as not
// clean, finds it gone, and archives its findings.
func TestDeletedBucketsFindingsArchivedByTheNextRun(t *testing.T) {
	f := account(3) // acme-0000 is public
	hub, _, run := reconciling(t, f)
	id := "bucketguard/111122223333/eu-west-1/acme-0000/public-policy"
	run("run-1")
	if got := hub.Findings()[id]; got.RecordState != "ACTIVE" || got.Compliance.Status != "FAILED" {
		t.Fatalf("after the first run: %s %s", got.RecordState, got.Compliance.Status)
	}
	f.Delete("acme-0000")
	time.Sleep(2 * time.Millisecond) // the next run's imports are later (times are kept to the millisecond)
	run("run-2")
	if got := hub.Findings()[id]; got.RecordState != "ARCHIVED" {
		t.Errorf("after the bucket was deleted and swept again: %s %s", got.RecordState, got.Compliance.Status)
	}
	if kept, _ := f.Store().FindingStates(context.Background(), "bucketguard/"); len(kept) != 0 {
		t.Errorf("states still kept: %v", kept)
	}
	// A third run leaves it archived.
	time.Sleep(2 * time.Millisecond)
	run("run-3")
	if got := hub.Findings()[id]; got.RecordState != "ARCHIVED" {
		t.Errorf("after a third run: %s", got.RecordState)
	}
}

// An access point deleted from a bucket that stays is not listed again: the
// next run's reconciliation asks S3 Control about it and archives its
// finding; the bucket's own findings stay.
func TestDeletedAccessPointsFindingArchivedByTheNextRun(t *testing.T) {
	f := account(3)
	f.PutAccessPoint("open-ap", fake.AccessPoint{Bucket: "acme-0001", Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/open-ap/object/*"}]}`})
	hub, _, run := reconciling(t, f)
	apID := "bucketguard/111122223333/eu-west-1/acme-0001/access-point/open-ap/public-access-point-policy"
	run("run-1")
	if got := hub.Findings()[apID]; got.RecordState != "ACTIVE" || got.Compliance.Status != "FAILED" {
		t.Fatalf("after the first run: %q %q", got.RecordState, got.Compliance.Status)
	}
	f.DeleteAccessPoint("open-ap")
	time.Sleep(2 * time.Millisecond) // the next run's imports are later
	run("run-2")
	if got := hub.Findings()[apID]; got.RecordState != "ARCHIVED" {
		t.Errorf("after the access point was deleted and swept again: %s", got.RecordState)
	}
	if got := hub.Findings()["bucketguard/111122223333/eu-west-1/acme-0000/public-policy"]; got.RecordState != "ACTIVE" {
		t.Errorf("another bucket's finding: %s", got.RecordState)
	}
}

// The reconciliation does not archive a bucket that exists: not one
// reported after the region was listed, not one whose policy refuses the
// sweep its ACL; it archives one whose name is now in another region.
func TestReconcileKeepsBucketsThatExist(t *testing.T) {
	f := account(3)
	st := f.Store()
	hub, h, run := reconciling(t, f)
	ctx := context.Background()
	const pre = "bucketguard/111122223333/eu-west-1/"
	at := time.Now().Add(-time.Hour)
	for _, b := range []string{"refuses-acl", "moved-away"} {
		if _, err := st.SetFindingState(ctx, pre+b+"/public-policy", "public", at, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
	}
	// refuses-acl is this account's, in this region, but unlisted by the
	// region's listing (a listing that lags), and refuses GetBucketAcl.
	f.Put("refuses-acl", fake.Bucket{Region: "eu-west-1"})
	f.Put("moved-away", fake.Bucket{Region: "us-east-1"})
	f.Fault = func(o op.Operation, b string, _ int) error {
		if o == op.GetBucketAcl && (b == "refuses-acl" || b == "moved-away") {
			if b == "moved-away" {
				return fake.APIError("PermanentRedirect", "the bucket is in another region")
			}
			return fake.APIError("AccessDenied", "denied by the bucket policy")
		}
		return nil
	}
	h.List = &hideFromRegionListing{Lister: f.S3(), hide: "refuses-acl"}
	run("run-1")
	if s, _, _, _ := st.FindingState(ctx, pre+"refuses-acl/public-policy"); s != "public" {
		t.Errorf("an existing bucket's state was dropped: %q", s)
	}
	if got := hub.Findings()[pre+"refuses-acl/public-policy"]; got.RecordState == "ARCHIVED" {
		t.Error("an existing bucket's finding was archived")
	}
	if got := hub.Findings()[pre+"moved-away/public-policy"]; got.RecordState != "ARCHIVED" {
		t.Errorf("a name now in another region: %q", got.RecordState)
	}
}

// hideFromRegionListing leaves one bucket out of region-filtered listings,
// as a listing that has not caught up would.
type hideFromRegionListing struct {
	sweep.Lister
	hide string
}

func (l *hideFromRegionListing) ListBuckets(ctx context.Context, in *s3.ListBucketsInput, o ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	out, err := l.Lister.ListBuckets(ctx, in, o...)
	if err != nil || in.BucketRegion == nil {
		return out, err
	}
	out.Buckets = slices.DeleteFunc(out.Buckets, func(b s3types.Bucket) bool { return aws.ToString(b.Name) == l.hide })
	return out, nil
}
