package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
)

// MaxUncovered bounds the buckets in regions without a stack that a summary
// names; the count stays exact.
const MaxUncovered = 50

// home reports whether this stack's sweep does the account-wide work: the
// first of the stack regions (or the only stack, when they are unknown).
func (h *Handler) home() bool {
	return len(h.StackRegions) == 0 || h.StackRegions[0] == h.Region
}

// accountLevel runs once per run, in its first part: what is not a bucket of
// this region. Every region's sweep evaluates the region's Object Lambda
// access points; the home region's also evaluates the account's Block
// Public Access and the Multi-Region Access Points (their control plane is
// in us-west-2, whichever stack calls it), and counts the buckets that live
// in regions without a stack, which no sweep and no rule covers, and checks
// that a trail feeds the rule in every region with a stack. A failure
// here is counted and named, and the bucket sweep goes on.
func (h *Handler) accountLevel(ctx context.Context, account string, cont *Continuation, log *slog.Logger) Tally {
	var t Tally
	targets := []posture.Target{}
	if h.home() {
		targets = append(targets, posture.Target{Account: account, Region: h.Region})
	}
	kinds := []posture.AccessPointKind{posture.ObjectLambdaAccessPoint}
	if h.home() {
		kinds = append(kinds, posture.MultiRegionAccessPoint)
	}
	for _, k := range kinds {
		refs, err := read.AccountAccessPoints(ctx, h.Incidents.Engine.Control, account, h.Region, k)
		if awserr.Unsupported(err) {
			log.Warn("account level", "kind", k, contract.FieldErr, err) // an emulator without the call
			continue
		}
		if err != nil {
			t.Errors++
			t.name(Bucket{Name: string(k) + " access points", Region: h.Region}, err.Error())
			continue
		}
		for _, r := range refs {
			targets = append(targets, posture.Target{Account: account, Region: h.Region, AccessPoint: &r})
		}
	}
	for _, target := range targets {
		out, _ := h.Incidents.Run(ctx, h.incident(account, cont.Run, target), log.With("target", target.Name()))
		t.AccountLevel++
		t.count(Bucket{Name: target.Name(), Region: target.Region}, out.Result, out.EvalErr)
		if out.Receipt.Delivery == contract.Undelivered {
			t.Undelivered++
		}
	}
	if h.home() && h.Trails != nil {
		h.checkTrails(ctx, account, cont, &t, log)
	}
	if h.home() && len(h.StackRegions) > 0 {
		n, names, err := uncovered(ctx, h.List, h.StackRegions)
		if err != nil {
			t.Errors++
			t.name(Bucket{Name: "bucket list", Region: "all"}, err.Error())
		}
		t.Uncovered, t.UncoveredBuckets = n, names
	}
	log.Info("account level", "targets", len(targets), "uncovered_buckets", t.Uncovered)
	return t
}

// uncovered lists every bucket of the account (one ListBuckets call per
// 1,000) and counts those in regions without a stack, naming the first
// MaxUncovered.
func uncovered(ctx context.Context, l Lister, stacks []string) (int, []Bucket, error) {
	n := 0
	var names []Bucket
	var token *string
	for {
		out, err := l.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1000), ContinuationToken: token})
		if err != nil {
			return n, names, fmt.Errorf("list buckets of every region: %w", err)
		}
		for _, b := range out.Buckets {
			region := aws.ToString(b.BucketRegion)
			if region == "" || slices.Contains(stacks, region) {
				continue
			}
			n++
			if len(names) < MaxUncovered {
				names = append(names, Bucket{Name: aws.ToString(b.Name), Region: region})
			}
		}
		if aws.ToString(out.ContinuationToken) == "" {
			return n, names, nil
		}
		token = out.ContinuationToken
	}
}
