package securityhub

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Reconcile archives the findings of the account's buckets in region that
// no longer exist, and of the access points of those that do that no
// longer exist. The memory keeps every finding that is not clean; each
// bucket it names, then each access point of a bucket that exists, is
// asked about (exists: false only when it is gone, an error when it cannot
// tell, which leaves it for the next run), eight at a time from a place
// in the order drawn from the run's time, none started
// in the last quarter of ctx's time (at most 30 s), which is kept for the
// imports. The findings of what is gone are imported ARCHIVED, and their
// states dropped. The sweep calls it once a run, after the run has flushed
// its own imports. Without a memory it does nothing. It returns how many
// findings it archived.
func (r *Reporter) Reconcile(ctx context.Context, account, region string, exists func(ctx context.Context, bucket, accessPoint string) (bool, error), log *slog.Logger) int {
	if r.Memory == nil {
		return 0
	}
	// The archive's time is when what it knows was learned: a report made
	// after the questions (a bucket made again, say) is newer.
	stamp := r.now().Truncate(time.Millisecond)
	prefix := "bucketguard/" + account + "/" + region + "/"
	states, err := r.Memory.FindingStates(ctx, prefix)
	if err != nil {
		log.Warn(contract.MsgReportFailed, contract.FieldTo, contract.ToSecurityHub, "op", string(op.Scan), contract.FieldErr, err.Error())
		return 0
	}
	byBucket := map[string][]Record{}
	for id := range states {
		if rec, ok := parseID(strings.TrimPrefix(id, prefix)); ok {
			rec.Target.Account, rec.Target.Region = account, region
			byBucket[rec.Target.Bucket] = append(byBucket[rec.Target.Bucket], rec)
		}
	}
	asking := ctx
	if d, ok := ctx.Deadline(); ok {
		keep := min(time.Until(d)/4, 30*time.Second)
		var cancel context.CancelFunc
		asking, cancel = context.WithDeadline(ctx, d.Add(-keep))
		defer cancel()
	}
	var (
		mu       sync.Mutex
		archived []Record
		unsure   int
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 8)
	)
	ask := func(bucket, ap string) (bool, bool) {
		ok, err := exists(asking, bucket, ap)
		if err != nil {
			mu.Lock()
			unsure++
			mu.Unlock()
			log.Warn("reconcile", contract.FieldBucket, bucket, "access_point", ap, contract.FieldErr, err.Error())
			return false, false
		}
		return !ok, true
	}
	// From a different place in the order each run, so that a run short of
	// time leaves different names unasked, and every one is asked in time.
	order := slices.Sorted(maps.Keys(byBucket))
	if len(order) > 0 {
		h := fnv.New64a()
		fmt.Fprint(h, stamp.UnixMilli())
		k := int(h.Sum64() % uint64(len(order)))
		order = append(order[k:], order[:k]...)
	}
	for _, bucket := range order {
		if asking.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			recs := byBucket[bucket]
			var gone []Record
			if isGone, known := ask(bucket, ""); known && isGone {
				for _, rec := range recs {
					rec.Note = "the bucket no longer exists"
					gone = append(gone, rec)
				}
			} else if known {
				for _, rec := range recs {
					if rec.AccessPoint == "" || asking.Err() != nil {
						continue
					}
					if apGone, apKnown := ask(bucket, rec.AccessPoint); apKnown && apGone {
						rec.Note = "the access point no longer exists"
						gone = append(gone, rec)
					}
				}
			}
			mu.Lock()
			archived = append(archived, gone...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	to := cmp.Or(r.Region, region)
	product := ProductARN(policy.Partition(to), to, account)
	items := make([]item, 0, len(archived))
	for _, rec := range archived {
		rec.State, rec.Severity = Gone, plan.Info
		if it, ok := newItem(remediations.Result{Target: rec.Target, Status: contract.BucketGone}, rec, product, stamp, log); ok {
			items = append(items, it)
		}
	}
	n := 0
	if len(items) > 0 {
		n = r.send(ctx, items, log)
	}
	log.Info("reconcile", "kept", len(states), "buckets", len(byBucket), "gone", len(items), "archived", n, "unsure", unsure)
	return n
}

// parseID reads a bucket's finding Id after "bucketguard/<account>/<region>/":
// "<bucket>/<kind>" or "<bucket>/access-point/<name>/<kind>". An Object
// Lambda or Multi-Region Access Point's ("<kind of access point>/<name>/<kind>")
// is not a bucket's: false.
func parseID(rest string) (Record, bool) {
	parts := strings.Split(rest, "/")
	var rec Record
	switch {
	case len(parts) == 2:
		rec = Record{Target: posture.Target{Bucket: parts[0]}, Kind: Kind(parts[1])}
	case len(parts) == 4 && parts[1] == "access-point":
		rec = Record{Target: posture.Target{Bucket: parts[0]}, AccessPoint: parts[2], Kind: Kind(parts[3])}
	default:
		return Record{}, false
	}
	if _, known := kindOf[rec.Kind]; !known || rec.Target.Bucket == "" {
		return Record{}, false
	}
	return rec, true
}
