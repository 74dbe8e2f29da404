package fake

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// AccessPoint is the state of one fake access point: a bucket's, an Object
// Lambda one or a Multi-Region one. Its Block Public Access is fixed at
// creation, as on AWS; a public policy put is refused while it (or the
// account's) has BlockPublicPolicy on.
type AccessPoint struct {
	Kind          posture.AccessPointKind
	Bucket        string // a bucket's access point
	Supporting    string // an Object Lambda access point's
	Alias         string // a Multi-Region Access Point's
	NetworkOrigin string // Internet unless VPC
	BPA           posture.BPA
	Policy        string
}

// PutAccessPoint creates or replaces an access point.
func (f *Fake) PutAccessPoint(name string, ap AccessPoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ap.Kind == "" {
		ap.Kind = posture.BucketAccessPoint
	}
	if ap.NetworkOrigin == "" {
		ap.NetworkOrigin = "Internet"
	}
	if ap.Kind == posture.MultiRegionAccessPoint && ap.Alias == "" {
		ap.Alias = name + "0123456789.mrap"
	}
	f.accessPoints[name] = &ap
}

// DeleteAccessPoint removes an access point.
func (f *Fake) DeleteAccessPoint(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.accessPoints, name)
}

// AccessPoint returns a copy of an access point's state.
func (f *Fake) AccessPoint(name string) (AccessPoint, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ap, ok := f.accessPoints[name]
	if !ok {
		return AccessPoint{}, false
	}
	return *ap, true
}

// doAP records a call about one access point (its name standing for the
// bucket in the call record, so that a Fault can aim at it) and runs fn on
// it under the lock.
func (c *Control) doAP(o op.Operation, account, name *string, kind posture.AccessPointKind, fn func(ap *AccessPoint) error) error {
	release, err := c.f.enter(o, aws.ToString(name))
	if err != nil {
		return err
	}
	defer release()
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if aws.ToString(account) != Account {
		return APIError("AccessDenied", "Access Denied")
	}
	ap, ok := c.f.accessPoints[aws.ToString(name)]
	if !ok || ap.Kind != kind {
		return APIError("NoSuchAccessPoint", "The specified accesspoint does not exist")
	}
	return fn(ap)
}

func (ap *AccessPoint) policyDoc() (string, error) {
	if ap.Policy == "" {
		return "", APIError("NoSuchAccessPointPolicy", "The specified accesspoint policy does not exist")
	}
	return ap.Policy, nil
}

// putPolicy stores an access point policy as S3 would.
func (c *Control) putPolicy(ap *AccessPoint, doc string) error {
	d, err := policy.Parse([]byte(doc))
	if err != nil {
		return APIError("MalformedPolicy", err.Error())
	}
	blocked := ap.BPA.BlockPublicPolicy || (c.f.accountBPA != nil && c.f.accountBPA.BlockPublicPolicy)
	if blocked && policy.Judge(d.ForAccessPoint()).Public {
		return APIError("AccessDenied", "Access Denied: public policies are blocked by the BlockPublicPolicy block public access setting.")
	}
	ap.Policy = doc
	return nil
}

func (ap *AccessPoint) public() bool {
	d, err := policy.Parse([]byte(ap.Policy))
	return err == nil && ap.NetworkOrigin != posture.VPC && policy.Judge(d.ForAccessPoint()).Public
}

func controlBPA(b posture.BPA) *types.PublicAccessBlockConfiguration {
	return &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(b.BlockPublicAcls), IgnorePublicAcls: aws.Bool(b.IgnorePublicAcls),
		BlockPublicPolicy: aws.Bool(b.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(b.RestrictPublicBuckets)}
}

// ListAccessPoints pages through a bucket's access points in name order;
// NextToken is the index to resume from.
func (c *Control) ListAccessPoints(_ context.Context, in *s3control.ListAccessPointsInput, _ ...func(*s3control.Options)) (*s3control.ListAccessPointsOutput, error) {
	out := &s3control.ListAccessPointsOutput{}
	return out, c.do(op.ListAccessPoints, in.AccountId, func() error {
		var names []string
		for n, ap := range c.f.accessPoints {
			if ap.Kind == posture.BucketAccessPoint && (in.Bucket == nil || ap.Bucket == *in.Bucket) {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		start, _ := strconv.Atoi(aws.ToString(in.NextToken))
		end := len(names)
		if in.MaxResults > 0 {
			end = min(end, start+int(in.MaxResults))
		}
		for _, n := range names[min(start, end):end] {
			ap := c.f.accessPoints[n]
			out.AccessPointList = append(out.AccessPointList, types.AccessPoint{Name: aws.String(n), Bucket: aws.String(ap.Bucket),
				NetworkOrigin: types.NetworkOrigin(ap.NetworkOrigin), AccessPointArn: aws.String(fmt.Sprintf("arn:aws:s3:eu-west-1:%s:accesspoint/%s", Account, n))})
		}
		if end < len(names) {
			out.NextToken = aws.String(strconv.Itoa(end))
		}
		return nil
	})
}

func (c *Control) GetAccessPoint(_ context.Context, in *s3control.GetAccessPointInput, _ ...func(*s3control.Options)) (*s3control.GetAccessPointOutput, error) {
	out := &s3control.GetAccessPointOutput{}
	return out, c.doAP(op.GetAccessPoint, in.AccountId, in.Name, posture.BucketAccessPoint, func(ap *AccessPoint) error {
		out.Name, out.Bucket, out.NetworkOrigin = in.Name, aws.String(ap.Bucket), types.NetworkOrigin(ap.NetworkOrigin)
		out.PublicAccessBlockConfiguration = controlBPA(ap.BPA)
		out.AccessPointArn = aws.String(fmt.Sprintf("arn:aws:s3:eu-west-1:%s:accesspoint/%s", Account, aws.ToString(in.Name)))
		return nil
	})
}

func (c *Control) GetAccessPointPolicy(_ context.Context, in *s3control.GetAccessPointPolicyInput, _ ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyOutput, error) {
	out := &s3control.GetAccessPointPolicyOutput{}
	return out, c.doAP(op.GetAccessPointPolicy, in.AccountId, in.Name, posture.BucketAccessPoint, func(ap *AccessPoint) error {
		doc, err := ap.policyDoc()
		out.Policy = aws.String(doc)
		return err
	})
}

func (c *Control) GetAccessPointPolicyStatus(_ context.Context, in *s3control.GetAccessPointPolicyStatusInput, _ ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyStatusOutput, error) {
	out := &s3control.GetAccessPointPolicyStatusOutput{}
	return out, c.doAP(op.GetAccessPointPolicyStatus, in.AccountId, in.Name, posture.BucketAccessPoint, func(ap *AccessPoint) error {
		if _, err := ap.policyDoc(); err != nil {
			return err
		}
		out.PolicyStatus = &types.PolicyStatus{IsPublic: ap.public()}
		return nil
	})
}

func (c *Control) PutAccessPointPolicy(_ context.Context, in *s3control.PutAccessPointPolicyInput, _ ...func(*s3control.Options)) (*s3control.PutAccessPointPolicyOutput, error) {
	return &s3control.PutAccessPointPolicyOutput{}, c.doAP(op.PutAccessPointPolicy, in.AccountId, in.Name, posture.BucketAccessPoint, func(ap *AccessPoint) error {
		return c.putPolicy(ap, aws.ToString(in.Policy))
	})
}

func (c *Control) DeleteAccessPointPolicy(_ context.Context, in *s3control.DeleteAccessPointPolicyInput, _ ...func(*s3control.Options)) (*s3control.DeleteAccessPointPolicyOutput, error) {
	return &s3control.DeleteAccessPointPolicyOutput{}, c.doAP(op.DeleteAccessPointPolicy, in.AccountId, in.Name, posture.BucketAccessPoint, func(ap *AccessPoint) error {
		ap.Policy = ""
		return nil
	})
}
