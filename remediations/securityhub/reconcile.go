package securityhub

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Reconcile archives the findings of the account's buckets in region that
// no longer exist, and of their access points. The memory keeps every
// finding that is not clean; each bucket it names is asked of S3, and the
// findings of one S3 says is gone are imported ARCHIVED, their states
// dropped. The sweep calls it once a run, after the run has re-imported
// every bucket it listed. Without a memory it does nothing. It returns how
// many buckets were found gone. exists says whether a bucket still exists:
// false only when S3 says NoSuchBucket, an error when it cannot tell.
func (r *Reporter) Reconcile(ctx context.Context, account, region string, exists func(context.Context, string) (bool, error), log *slog.Logger) int {
	if r.Memory == nil {
		return 0
	}
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
	gone := 0
	var items []item
	for _, bucket := range slicesSorted(byBucket) {
		ok, err := exists(ctx, bucket)
		if err != nil || ok {
			if err != nil {
				log.Warn("reconcile", contract.FieldBucket, bucket, contract.FieldErr, err.Error())
			}
			continue
		}
		gone++
		res := remediations.Result{Target: posture.Target{Account: account, Region: region, Bucket: bucket}, Status: contract.BucketGone,
			Findings: []plan.Finding{plan.BucketGoneFinding()}}
		to := cmp.Or(r.Region, region)
		product := ProductARN(policy.Partition(to), to, account)
		for _, rec := range byBucket[bucket] {
			rec.State, rec.Severity, rec.Note = Gone, plan.Info, "the bucket no longer exists"
			f := Finding(res, rec, product, r.now())
			b, _ := json.Marshal(f) // plain data: cannot fail
			items = append(items, item{finding: f, size: len(b), state: Gone, note: rec.Note})
		}
	}
	if len(items) > 0 {
		log.Info("reconcile", "gone", gone, "findings", len(items))
		r.send(ctx, items, log)
	}
	return gone
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

func slicesSorted(m map[string][]Record) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
