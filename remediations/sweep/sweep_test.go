package sweep_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func clean(b string) fake.Bucket {
	on := posture.AllOn
	return fake.Bucket{BPA: &on, Encryption: &posture.Encryption{Algorithm: "AES256"}, Policy: emulator.PolicyDoc(emulator.TLSStatement(b))}
}

// account makes n buckets in eu-west-1, every fifth with a public policy,
// and two in us-east-1.
func account(n int) *fake.Fake {
	f := fake.New()
	for i := range n {
		name := fmt.Sprintf("acme-%04d", i)
		b := clean(name)
		if i%5 == 0 {
			b.Policy = emulator.PolicyDoc(emulator.PublicReadStatement(name), emulator.TLSStatement(name))
		}
		f.Put(name, b)
	}
	for _, name := range []string{"acme-us-1", "acme-us-2"} {
		b := clean(name)
		b.Region = "us-east-1"
		f.Put(name, b)
	}
	on := posture.AllOn
	f.SetAccountBPA(&on)
	return f
}

func evaluator(f *fake.Fake) sweep.Evaluate {
	e := &remediations.Engine{S3: f.S3(), Control: f.Control(), Config: config.Default()}
	return func(ctx context.Context, b sweep.Bucket) (remediations.Result, error) {
		return e.Evaluate(ctx, posture.Target{Account: fake.Account, Region: b.Region, Bucket: b.Name}, nil, quiet)
	}
}

func TestRunEvaluatesEveryBucketOfTheRegionOnce(t *testing.T) {
	f := account(47)
	var mu sync.Mutex
	seen := map[string]int{}
	var inflight, peak atomic.Int32
	eval := evaluator(f)
	counted := func(ctx context.Context, b sweep.Bucket) (remediations.Result, error) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer inflight.Add(-1)
		time.Sleep(time.Millisecond)
		mu.Lock()
		seen[b.Name]++
		mu.Unlock()
		if b.Region != "eu-west-1" {
			t.Errorf("%s: region %q", b.Name, b.Region)
		}
		return eval(ctx, b)
	}
	out, err := sweep.Run(context.Background(), f.S3(), sweep.Position{}, sweep.Options{Region: "eu-west-1", Concurrency: 3, PageSize: 10}, counted, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Next != nil || len(seen) != 47 {
		t.Fatalf("next %+v, %d buckets seen", out.Next, len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s evaluated %d times", name, n)
		}
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d evaluations at once, concurrency is 3", p)
	}
	if n := f.Count("s3:ListBuckets"); n != 5 {
		t.Errorf("ListBuckets called %d times for 47 buckets in pages of 10", n)
	}
	if got := out.Tally; got.Seen != 47 || got.Count(contract.Clean) != 37 || got.Count(contract.Remediated) != 10 || got.Failing() != 0 {
		t.Errorf("tally %+v", got)
	}
}

func TestPerBucketFailuresNeverStopTheRun(t *testing.T) {
	f := account(12)
	f.Fault = func(op op.Operation, b string, _ int) error {
		switch {
		case b == "acme-0003" && op == "s3:GetBucketAcl":
			return fake.HTTPError(503) // transient: the bucket fails, the run goes on
		case b == "acme-0005" && op == "s3:PutBucketPolicy":
			return fake.APIError("AccessDenied", "Access Denied")
		}
		return nil
	}
	out, err := sweep.Run(context.Background(), f.S3(), sweep.Position{}, sweep.Options{Region: "eu-west-1", Concurrency: 2, PageSize: 5}, evaluator(f), nil)
	if err != nil || out.Next != nil {
		t.Fatalf("err %v next %+v", err, out.Next)
	}
	if out.Tally.Seen != 12 || out.Tally.Failing() != 2 || len(out.Tally.Failures) != 2 {
		t.Fatalf("tally %+v", out.Tally)
	}
	names := []string{out.Tally.Failures[0].Bucket, out.Tally.Failures[1].Bucket}
	slices.Sort(names)
	if !slices.Equal(names, []string{"acme-0003", "acme-0005"}) {
		t.Errorf("failures named %v", names)
	}
}

// A run stopped part-way resumes where it stopped: together the two runs
// evaluate every bucket exactly once.
func TestStopAndResume(t *testing.T) {
	f := account(33)
	var mu sync.Mutex
	seen := map[string]int{}
	eval := evaluator(f)
	record := func(ctx context.Context, b sweep.Bucket) (remediations.Result, error) {
		mu.Lock()
		seen[b.Name]++
		mu.Unlock()
		return eval(ctx, b)
	}
	stop := make(chan struct{})
	var done atomic.Int32
	visit := func(sweep.Bucket, remediations.Result, error) {
		if done.Add(1) == 14 {
			close(stop)
		}
	}
	first, err := sweep.Run(context.Background(), f.S3(), sweep.Position{}, sweep.Options{Region: "eu-west-1", Concurrency: 2, PageSize: 10, Stop: stop}, record, visit)
	if err != nil || first.Next == nil || first.Stopped == "" {
		t.Fatalf("first run: %+v %v", first, err)
	}
	second, err := sweep.Run(context.Background(), f.S3(), *first.Next, sweep.Options{Region: "eu-west-1", Concurrency: 2, PageSize: 10}, record, nil)
	if err != nil || second.Next != nil {
		t.Fatalf("second run: %+v %v", second, err)
	}
	if len(seen) != 33 || first.Tally.Seen+second.Tally.Seen != 33 {
		t.Fatalf("%d buckets seen, tallies %d + %d", len(seen), first.Tally.Seen, second.Tally.Seen)
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s evaluated %d times", name, n)
		}
	}
}

func TestDeadlineNearStartsNothing(t *testing.T) {
	f := account(5)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := sweep.Run(ctx, f.S3(), sweep.Position{}, sweep.Options{Region: "eu-west-1", Margin: time.Minute}, evaluator(f), nil)
	if err != nil || out.Next == nil || out.Tally.Seen != 0 || *out.Next != (sweep.Position{}) {
		t.Errorf("out %+v err %v", out, err)
	}
}

func TestListFailureIsReturned(t *testing.T) {
	f := account(5)
	f.Fault = fake.FailOp("s3:ListBuckets", fake.APIError("AccessDenied", "no"))
	if _, err := sweep.Run(context.Background(), f.S3(), sweep.Position{}, sweep.Options{}, evaluator(f), nil); err == nil {
		t.Error("a failure to list was swallowed")
	}
}

func TestRegionFromLocateWhenThePageDoesNotSay(t *testing.T) {
	f := account(3)
	noRegion := listerFunc(func(ctx context.Context, in *s3ListBucketsInput) (*s3ListBucketsOutput, error) {
		out, err := f.S3().ListBuckets(ctx, in)
		if err == nil {
			for i := range out.Buckets {
				out.Buckets[i].BucketRegion = nil // as moto answers
			}
		}
		return out, err
	})
	var got []string
	var mu sync.Mutex
	eval := func(_ context.Context, b sweep.Bucket) (remediations.Result, error) {
		mu.Lock()
		got = append(got, b.Region)
		mu.Unlock()
		return remediations.Result{Status: contract.Clean}, nil
	}
	_, err := sweep.Run(context.Background(), noRegion, sweep.Position{}, sweep.Options{
		Locate: func(context.Context, string) (string, error) { return "ap-south-2", nil }}, eval, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r != "ap-south-2" {
			t.Errorf("region %q", r)
		}
	}
}

// synthetic pages through n generated bucket names, as S3 would, without
// keeping them: the benchmark measures the sweep, not a fake.
func synthetic(n int) listerFunc {
	return func(_ context.Context, in *s3ListBucketsInput) (*s3ListBucketsOutput, error) {
		start := 0
		if in.ContinuationToken != nil {
			fmt.Sscanf(*in.ContinuationToken, "acme-%08d", &start)
			start++
		}
		end := min(n, start+int(*in.MaxBuckets))
		out := &s3ListBucketsOutput{}
		for i := start; i < end; i++ {
			out.Buckets = append(out.Buckets, s3Bucket(fmt.Sprintf("acme-%08d", i), "eu-west-1"))
		}
		if end < n {
			token := fmt.Sprintf("acme-%08d", end-1)
			out.ContinuationToken = &token
		}
		return out, nil
	}
}

// BenchmarkSweep: the sweep's own cost per bucket (listing, scheduling,
// tallying) at 1,000 and 20,000 buckets. Time, bytes and allocations per
// bucket stay the same: cost is linear in the account, memory flat.
func BenchmarkSweep(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			l := synthetic(n)
			eval := func(context.Context, sweep.Bucket) (remediations.Result, error) {
				return remediations.Result{Status: contract.Clean}, nil
			}
			b.ReportAllocs()
			for b.Loop() {
				out, err := sweep.Run(context.Background(), l, sweep.Position{}, sweep.Options{Region: "eu-west-1", Concurrency: 4, PageSize: 1000}, eval, nil)
				if err != nil || out.Tally.Seen != n {
					b.Fatal(err, out.Tally.Seen)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/bucket")
		})
	}
}
