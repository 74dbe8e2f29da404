// Package sweep evaluates every bucket of an account with the same engine as
// the event path: it closes the holes events leave (buckets public before
// bucketguard was deployed, events lost, approvals that expire without any
// event). It streams the bucket list page by page with bounded concurrency,
// keeps counters but no posture, and stops starting buckets when its time is
// nearly up, returning the position to resume from.
package sweep

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketguard/bucketguard/remediations"
)

// Lister is the paginated ListBuckets call. Unpaginated ListBuckets is
// refused in accounts whose bucket quota is above 10,000, so the sweep always
// pages (MaxBuckets), which also makes S3 return each bucket's region.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
type Lister interface {
	ListBuckets(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
}

var _ Lister = (*s3.Client)(nil)

// Bucket is one bucket to evaluate.
type Bucket struct {
	Name   string `json:"name"`
	Region string `json:"region"`
}

// Position is where a sweep resumes: the page (by its continuation token;
// empty for the first) and the last bucket started on it. Buckets are
// started in name order, so every bucket up to After is done.
type Position struct {
	Token string `json:"token,omitempty"`
	After string `json:"after,omitempty"`
}

// Options bound a run.
type Options struct {
	// Region lists only the buckets in this region; empty lists all.
	Region string
	// Concurrency is how many buckets are evaluated at once.
	Concurrency int
	// PageSize is MaxBuckets per ListBuckets page (1 to 10,000).
	PageSize int32
	// Margin stops starting buckets when less than this is left before the
	// context's deadline: the buckets in flight must still finish.
	Margin time.Duration
	// Stop, when closed, stops starting buckets (Ctrl-C in the CLI); the
	// buckets in flight finish.
	Stop <-chan struct{}
	// Listed, when set, is told after each page how many buckets the run
	// has listed so far and whether more pages follow (a progress display
	// learns the total without listing twice).
	Listed func(n int, more bool)
	// Locate finds a bucket's region when the page does not say (an
	// emulator); nil falls back to Region.
	Locate func(ctx context.Context, bucket string) (string, error)
	Now    func() time.Time
}

// Evaluate runs the engine on one bucket.
type Evaluate func(ctx context.Context, b Bucket) (remediations.Result, error)

// Visit sees each bucket's outcome as it finishes (an alert, a progress
// line); it is called from the workers, one at a time.
type Visit func(b Bucket, res remediations.Result, err error)

// Progress is how far one run (or part of a run) got.
type Progress struct {
	Tally Tally `json:"tally"`
	// Next is where to resume; nil when every bucket was evaluated.
	Next *Position `json:"next,omitempty"`
	// Stopped says why the run stopped early.
	Stopped string `json:"stopped,omitempty"`
}

// Run evaluates every bucket from the position on. A failure to list is
// returned (the run can be retried from the same position); a bucket's
// failure is counted, named, and never stops the run.
func Run(ctx context.Context, l Lister, from Position, o Options, eval Evaluate, visit Visit) (Progress, error) {
	o = o.withDefaults()
	var (
		out  Progress
		mu   sync.Mutex
		wg   sync.WaitGroup
		sem  = make(chan struct{}, o.Concurrency)
		pos  = from
		stop = func() string {
			select {
			case <-o.Stop:
				return "stopped by the operator"
			default:
			}
			if dl, ok := ctx.Deadline(); ok && dl.Sub(o.Now()) < o.Margin {
				return "the invocation's deadline was near"
			}
			return ""
		}
	)
	listed := 0
	for {
		page, err := list(ctx, l, pos.Token, o)
		if err != nil {
			wg.Wait()
			return out, err
		}
		listed += len(page.buckets)
		if o.Listed != nil {
			o.Listed(listed, page.next != "")
		}
		for _, b := range page.buckets {
			if b.Name <= pos.After {
				continue // done by an earlier invocation
			}
			// Wait for a free slot first, then decide: a stop that came
			// while waiting starts nothing more.
			sem <- struct{}{}
			if why := stop(); why != "" {
				<-sem
				wg.Wait()
				out.Stopped, out.Next = why, &Position{Token: pos.Token, After: pos.After}
				return out, nil
			}
			wg.Add(1)
			pos.After = b.Name
			go func(b Bucket) {
				defer func() { <-sem; wg.Done() }()
				if b.Region == "" {
					b.Region = locate(ctx, o, b.Name) // in the worker: it is a call
				}
				res, err := eval(ctx, b)
				mu.Lock()
				defer mu.Unlock()
				out.Tally.add(b, res, err)
				if visit != nil {
					visit(b, res, err)
				}
			}(b)
		}
		// Finish the page before moving the position past it.
		wg.Wait()
		if page.next == "" {
			return out, nil
		}
		pos = Position{Token: page.next}
	}
}

// withDefaults fills what the caller left unset or out of range.
func (o Options) withDefaults() Options {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.PageSize < 1 || o.PageSize > 10000 {
		o.PageSize = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

type page struct {
	buckets []Bucket
	next    string
}

func list(ctx context.Context, l Lister, token string, o Options) (page, error) {
	in := &s3.ListBucketsInput{MaxBuckets: aws.Int32(o.PageSize)}
	if token != "" {
		in.ContinuationToken = aws.String(token)
	}
	if o.Region != "" {
		in.BucketRegion = aws.String(o.Region)
	}
	out, err := l.ListBuckets(ctx, in)
	if err != nil {
		return page{}, fmt.Errorf("list buckets: %w", err)
	}
	var p page
	for _, b := range out.Buckets {
		region := aws.ToString(b.BucketRegion)
		if region == "" {
			region = o.Region
		}
		p.buckets = append(p.buckets, Bucket{Name: aws.ToString(b.Name), Region: region})
	}
	// S3 lists in name order; sort anyway, so that resuming after a name is
	// right whatever the server did.
	sort.Slice(p.buckets, func(i, j int) bool { return p.buckets[i].Name < p.buckets[j].Name })
	p.next = aws.ToString(out.ContinuationToken)
	return p, nil
}

func locate(ctx context.Context, o Options, name string) string {
	if o.Locate == nil {
		return o.Region
	}
	r, err := o.Locate(ctx, name)
	if err != nil {
		return o.Region
	}
	return r
}
