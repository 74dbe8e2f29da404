package read

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// MultiRegionControlRegion is where every Multi-Region Access Point control
// call goes: "All requests to create or maintain a Multi-Region Access Point
// are routed through the US West (Oregon) Region."
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointCloudTrail.html
const MultiRegionControlRegion = "us-west-2"

// accessPointPage bounds one ListAccessPoints page (S3's maximum is 1,000).
const accessPointPage = 1000

// listAccessPoints lists a bucket's access points, every page.
func listAccessPoints(ctx context.Context, c AccessPointReader, t posture.Target, capped *bool) ([]posture.AccessPoint, bool, error) {
	var out []posture.AccessPoint
	var token *string
	for {
		page, err := c.ListAccessPoints(ctx, &s3control.ListAccessPointsInput{AccountId: aws.String(t.Account), Bucket: aws.String(t.Bucket),
			MaxResults: accessPointPage, NextToken: token}, ControlInRegion(t.Region))
		if err != nil {
			return nil, false, err
		}
		for _, ap := range page.AccessPointList {
			out = append(out, posture.AccessPoint{
				AccessPointRef: posture.AccessPointRef{Kind: posture.BucketAccessPoint, Name: aws.ToString(ap.Name)},
				ARN:            aws.ToString(ap.AccessPointArn), Bucket: aws.ToString(ap.Bucket), NetworkOrigin: string(ap.NetworkOrigin),
			})
		}
		if aws.ToString(page.NextToken) == "" {
			return out, len(out) > 0, nil
		}
		if len(out) >= MaxAccessPoints {
			*capped = true
			return out[:MaxAccessPoints], true, nil
		}
		token = page.NextToken
	}
}

// MaxAccessPoints bounds the access points of one bucket that an evaluation
// judges (S3 allows 10,000 per region); beyond it the bucket is reported as
// not fully judged.
const MaxAccessPoints = 2000

// MaxAccessPointReads bounds the access point reads in flight for one
// evaluation, so that a bucket with many access points cannot make
// bucketguard throttle itself.
const MaxAccessPointReads = 16

// AccessPointRound reads, in one concurrent round, each access point of
// p.AccessPoints: its configuration (Block Public Access, network origin,
// alias, supporting access point), its policy and AWS's verdict on it.
// policyOnly reads the policies alone (the read-back).
func AccessPointRound(ctx context.Context, c Clients, p *posture.Posture, policyOnly, best bool) RoundResult {
	r := &round{best: best, sem: make(chan struct{}, MaxAccessPointReads)}
	for i := range p.AccessPoints.Value {
		ap := &p.AccessPoints.Value[i]
		for _, o := range accessPointOps(ap.Kind, policyOnly) {
			if err := r.startAccessPoint(ctx, c.Control, p.Target, ap, o); err != nil {
				r.res.Err = err
			}
		}
	}
	r.wg.Wait()
	return r.res
}

// accessPointOps are the reads of one access point of a kind.
func accessPointOps(k posture.AccessPointKind, policyOnly bool) []op.Operation {
	var ops []op.Operation
	switch k {
	case posture.ObjectLambdaAccessPoint:
		ops = []op.Operation{op.GetAccessPointPolicyForObjectLambda, op.GetAccessPointConfigurationForObjectLambda, op.GetAccessPointPolicyStatusForObjectLambda}
	case posture.MultiRegionAccessPoint:
		ops = []op.Operation{op.GetMultiRegionAccessPointPolicy, op.GetMultiRegionAccessPoint, op.GetMultiRegionAccessPointPolicyStatus}
	default:
		ops = []op.Operation{op.GetAccessPointPolicy, op.GetAccessPoint, op.GetAccessPointPolicyStatus}
	}
	if policyOnly {
		return ops[:1]
	}
	return ops
}

// startAccessPoint issues one read of one access point.
func (r *round) startAccessPoint(ctx context.Context, c AccessPointReader, t posture.Target, ap *posture.AccessPoint, o op.Operation) error {
	acct, name := aws.String(t.Account), aws.String(ap.Name)
	reg, mrap := ControlInRegion(t.Region), ControlInRegion(MultiRegionControlRegion)
	switch o {
	case op.GetAccessPoint:
		fetch(ctx, r, o, false, &ap.BPA, func(ctx context.Context) (posture.BPA, bool, error) {
			out, err := c.GetAccessPoint(ctx, &s3control.GetAccessPointInput{AccountId: acct, Name: name}, reg)
			if err != nil {
				return posture.BPA{}, false, err
			}
			ap.NetworkOrigin, ap.ARN, ap.Bucket = string(out.NetworkOrigin), aws.ToString(out.AccessPointArn), aws.ToString(out.Bucket)
			return bpaOf(out.PublicAccessBlockConfiguration), true, nil
		})
	case op.GetAccessPointPolicy:
		fetch(ctx, r, o, false, &ap.Policy, func(ctx context.Context) (string, bool, error) {
			out, err := c.GetAccessPointPolicy(ctx, &s3control.GetAccessPointPolicyInput{AccountId: acct, Name: name}, reg)
			if err != nil {
				return "", false, err
			}
			return aws.ToString(out.Policy), aws.ToString(out.Policy) != "", nil
		})
	case op.GetAccessPointPolicyStatus:
		fetch(ctx, r, o, true, &ap.PolicyStatus, func(ctx context.Context) (bool, bool, error) {
			out, err := c.GetAccessPointPolicyStatus(ctx, &s3control.GetAccessPointPolicyStatusInput{AccountId: acct, Name: name}, reg)
			if err != nil || out.PolicyStatus == nil {
				return false, false, err
			}
			return out.PolicyStatus.IsPublic, true, nil
		})
	case op.GetAccessPointPolicyForObjectLambda:
		fetch(ctx, r, o, false, &ap.Policy, func(ctx context.Context) (string, bool, error) {
			out, err := c.GetAccessPointPolicyForObjectLambda(ctx, &s3control.GetAccessPointPolicyForObjectLambdaInput{AccountId: acct, Name: name}, reg)
			if err != nil {
				return "", false, err
			}
			return aws.ToString(out.Policy), aws.ToString(out.Policy) != "", nil
		})
	case op.GetAccessPointConfigurationForObjectLambda:
		// An Object Lambda access point has no Block Public Access of its
		// own: its supporting access point's applies.
		fetch(ctx, r, o, false, &ap.BPA, func(ctx context.Context) (posture.BPA, bool, error) {
			out, err := c.GetAccessPointConfigurationForObjectLambda(ctx, &s3control.GetAccessPointConfigurationForObjectLambdaInput{AccountId: acct, Name: name}, reg)
			if err == nil && out.Configuration != nil {
				ap.Supporting = aws.ToString(out.Configuration.SupportingAccessPoint)
			}
			return posture.BPA{}, false, err
		})
	case op.GetAccessPointPolicyStatusForObjectLambda:
		fetch(ctx, r, o, true, &ap.PolicyStatus, func(ctx context.Context) (bool, bool, error) {
			out, err := c.GetAccessPointPolicyStatusForObjectLambda(ctx, &s3control.GetAccessPointPolicyStatusForObjectLambdaInput{AccountId: acct, Name: name}, reg)
			if err != nil || out.PolicyStatus == nil {
				return false, false, err
			}
			return out.PolicyStatus.IsPublic, true, nil
		})
	default:
		return r.startMultiRegion(ctx, c, acct, ap, o, mrap)
	}
	return nil
}

// startMultiRegion issues one read of a Multi-Region Access Point, in
// us-west-2.
func (r *round) startMultiRegion(ctx context.Context, c AccessPointReader, acct *string, ap *posture.AccessPoint, o op.Operation, reg func(*s3control.Options)) error {
	name := aws.String(ap.Name)
	switch o {
	case op.GetMultiRegionAccessPoint:
		fetch(ctx, r, o, false, &ap.BPA, func(ctx context.Context) (posture.BPA, bool, error) {
			out, err := c.GetMultiRegionAccessPoint(ctx, &s3control.GetMultiRegionAccessPointInput{AccountId: acct, Name: name}, reg)
			if err != nil || out.AccessPoint == nil {
				return posture.BPA{}, false, err
			}
			ap.Alias = aws.ToString(out.AccessPoint.Alias)
			return bpaOf(out.AccessPoint.PublicAccessBlock), true, nil
		})
	case op.GetMultiRegionAccessPointPolicy:
		// The proposed policy, when there is one, is the newest intent: it
		// becomes the established one once it has propagated.
		fetch(ctx, r, o, false, &ap.Policy, func(ctx context.Context) (string, bool, error) {
			out, err := c.GetMultiRegionAccessPointPolicy(ctx, &s3control.GetMultiRegionAccessPointPolicyInput{AccountId: acct, Name: name}, reg)
			if err != nil || out.Policy == nil {
				return "", false, err
			}
			doc := ""
			if p := out.Policy.Established; p != nil {
				doc = aws.ToString(p.Policy)
			}
			if p := out.Policy.Proposed; p != nil && aws.ToString(p.Policy) != "" {
				doc = aws.ToString(p.Policy)
			}
			return doc, doc != "", nil
		})
	case op.GetMultiRegionAccessPointPolicyStatus:
		fetch(ctx, r, o, true, &ap.PolicyStatus, func(ctx context.Context) (bool, bool, error) {
			out, err := c.GetMultiRegionAccessPointPolicyStatus(ctx, &s3control.GetMultiRegionAccessPointPolicyStatusInput{AccountId: acct, Name: name}, reg)
			if err != nil || out.Established == nil {
				return false, false, err
			}
			return out.Established.IsPublic, true, nil
		})
	default:
		return fmt.Errorf("read: no reader for %s", o)
	}
	return nil
}

func bpaOf(c *ctltypes.PublicAccessBlockConfiguration) posture.BPA {
	if c == nil {
		return posture.BPA{}
	}
	return bpaFromControl(c)
}

// AccessPointBucket finds the bucket of a bucket's access point
// (GetAccessPoint): an access point event names only the access point.
func AccessPointBucket(ctx context.Context, c AccessPointReader, account, region, name string) (string, error) {
	out, err := c.GetAccessPoint(ctx, &s3control.GetAccessPointInput{AccountId: aws.String(account), Name: aws.String(name)}, ControlInRegion(region))
	if err != nil {
		return "", fmt.Errorf("get access point %s: %w", name, err)
	}
	if aws.ToString(out.Bucket) == "" {
		return "", fmt.Errorf("get access point %s: %w", name, awserr.ErrBucketGone)
	}
	return aws.ToString(out.Bucket), nil
}

// AccountAccessPoints lists the account's Object Lambda access points in a
// region, or its Multi-Region Access Points (in us-west-2), every page: the
// sweep evaluates each on its own, as their events would.
func AccountAccessPoints(ctx context.Context, c AccessPointReader, account, region string, kind posture.AccessPointKind) ([]posture.AccessPointRef, error) {
	var out []posture.AccessPointRef
	var token *string
	for {
		var names []*string
		var next *string
		switch kind {
		case posture.ObjectLambdaAccessPoint:
			page, err := c.ListAccessPointsForObjectLambda(ctx, &s3control.ListAccessPointsForObjectLambdaInput{AccountId: aws.String(account),
				MaxResults: accessPointPage, NextToken: token}, ControlInRegion(region))
			if err != nil {
				return nil, fmt.Errorf("list Object Lambda access points: %w", err)
			}
			for _, ap := range page.ObjectLambdaAccessPointList {
				names = append(names, ap.Name)
			}
			next = page.NextToken
		case posture.MultiRegionAccessPoint:
			page, err := c.ListMultiRegionAccessPoints(ctx, &s3control.ListMultiRegionAccessPointsInput{AccountId: aws.String(account),
				MaxResults: 100, NextToken: token}, ControlInRegion(MultiRegionControlRegion))
			if err != nil {
				return nil, fmt.Errorf("list Multi-Region Access Points: %w", err)
			}
			for _, ap := range page.AccessPoints {
				names = append(names, ap.Name)
			}
			next = page.NextToken
		default:
			return nil, fmt.Errorf("read: %s access points are listed per bucket", kind)
		}
		for _, n := range names {
			out = append(out, posture.AccessPointRef{Kind: kind, Name: aws.ToString(n)})
		}
		if aws.ToString(next) == "" {
			return out, nil
		}
		token = next
	}
}
