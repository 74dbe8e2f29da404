package fake

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// The account-level access points: Object Lambda and Multi-Region.

func (c *Control) names(kind posture.AccessPointKind) []string {
	var names []string
	for n, ap := range c.f.accessPoints {
		if ap.Kind == kind {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

func (c *Control) ListAccessPointsForObjectLambda(_ context.Context, in *s3control.ListAccessPointsForObjectLambdaInput, _ ...func(*s3control.Options)) (*s3control.ListAccessPointsForObjectLambdaOutput, error) {
	out := &s3control.ListAccessPointsForObjectLambdaOutput{}
	return out, c.do(op.ListAccessPointsForObjectLambda, in.AccountId, func() error {
		for _, n := range c.names(posture.ObjectLambdaAccessPoint) {
			out.ObjectLambdaAccessPointList = append(out.ObjectLambdaAccessPointList, types.ObjectLambdaAccessPoint{Name: aws.String(n)})
		}
		return nil
	})
}

func (c *Control) GetAccessPointConfigurationForObjectLambda(_ context.Context, in *s3control.GetAccessPointConfigurationForObjectLambdaInput, _ ...func(*s3control.Options)) (*s3control.GetAccessPointConfigurationForObjectLambdaOutput, error) {
	out := &s3control.GetAccessPointConfigurationForObjectLambdaOutput{}
	return out, c.doAP(op.GetAccessPointConfigurationForObjectLambda, in.AccountId, in.Name, posture.ObjectLambdaAccessPoint, func(ap *AccessPoint) error {
		out.Configuration = &types.ObjectLambdaConfiguration{SupportingAccessPoint: aws.String(ap.Supporting)}
		return nil
	})
}

func (c *Control) GetAccessPointPolicyForObjectLambda(_ context.Context, in *s3control.GetAccessPointPolicyForObjectLambdaInput, _ ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyForObjectLambdaOutput, error) {
	out := &s3control.GetAccessPointPolicyForObjectLambdaOutput{}
	return out, c.doAP(op.GetAccessPointPolicyForObjectLambda, in.AccountId, in.Name, posture.ObjectLambdaAccessPoint, func(ap *AccessPoint) error {
		doc, err := ap.policyDoc()
		out.Policy = aws.String(doc)
		return err
	})
}

func (c *Control) GetAccessPointPolicyStatusForObjectLambda(_ context.Context, in *s3control.GetAccessPointPolicyStatusForObjectLambdaInput, _ ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyStatusForObjectLambdaOutput, error) {
	out := &s3control.GetAccessPointPolicyStatusForObjectLambdaOutput{}
	return out, c.doAP(op.GetAccessPointPolicyStatusForObjectLambda, in.AccountId, in.Name, posture.ObjectLambdaAccessPoint, func(ap *AccessPoint) error {
		if _, err := ap.policyDoc(); err != nil {
			return err
		}
		out.PolicyStatus = &types.PolicyStatus{IsPublic: ap.public()}
		return nil
	})
}

func (c *Control) PutAccessPointPolicyForObjectLambda(_ context.Context, in *s3control.PutAccessPointPolicyForObjectLambdaInput, _ ...func(*s3control.Options)) (*s3control.PutAccessPointPolicyForObjectLambdaOutput, error) {
	return &s3control.PutAccessPointPolicyForObjectLambdaOutput{}, c.doAP(op.PutAccessPointPolicyForObjectLambda, in.AccountId, in.Name, posture.ObjectLambdaAccessPoint, func(ap *AccessPoint) error {
		return c.putPolicy(ap, aws.ToString(in.Policy))
	})
}

func (c *Control) DeleteAccessPointPolicyForObjectLambda(_ context.Context, in *s3control.DeleteAccessPointPolicyForObjectLambdaInput, _ ...func(*s3control.Options)) (*s3control.DeleteAccessPointPolicyForObjectLambdaOutput, error) {
	return &s3control.DeleteAccessPointPolicyForObjectLambdaOutput{}, c.doAP(op.DeleteAccessPointPolicyForObjectLambda, in.AccountId, in.Name, posture.ObjectLambdaAccessPoint, func(ap *AccessPoint) error {
		ap.Policy = ""
		return nil
	})
}

func (c *Control) ListMultiRegionAccessPoints(_ context.Context, in *s3control.ListMultiRegionAccessPointsInput, _ ...func(*s3control.Options)) (*s3control.ListMultiRegionAccessPointsOutput, error) {
	out := &s3control.ListMultiRegionAccessPointsOutput{}
	return out, c.do(op.ListMultiRegionAccessPoints, in.AccountId, func() error {
		for _, n := range c.names(posture.MultiRegionAccessPoint) {
			out.AccessPoints = append(out.AccessPoints, types.MultiRegionAccessPointReport{Name: aws.String(n), Alias: aws.String(c.f.accessPoints[n].Alias)})
		}
		return nil
	})
}

func (c *Control) GetMultiRegionAccessPoint(_ context.Context, in *s3control.GetMultiRegionAccessPointInput, _ ...func(*s3control.Options)) (*s3control.GetMultiRegionAccessPointOutput, error) {
	out := &s3control.GetMultiRegionAccessPointOutput{}
	return out, c.doAP(op.GetMultiRegionAccessPoint, in.AccountId, in.Name, posture.MultiRegionAccessPoint, func(ap *AccessPoint) error {
		out.AccessPoint = &types.MultiRegionAccessPointReport{Name: in.Name, Alias: aws.String(ap.Alias), PublicAccessBlock: controlBPA(ap.BPA)}
		return nil
	})
}

func (c *Control) GetMultiRegionAccessPointPolicy(_ context.Context, in *s3control.GetMultiRegionAccessPointPolicyInput, _ ...func(*s3control.Options)) (*s3control.GetMultiRegionAccessPointPolicyOutput, error) {
	out := &s3control.GetMultiRegionAccessPointPolicyOutput{}
	return out, c.doAP(op.GetMultiRegionAccessPointPolicy, in.AccountId, in.Name, posture.MultiRegionAccessPoint, func(ap *AccessPoint) error {
		out.Policy = &types.MultiRegionAccessPointPolicyDocument{Established: &types.EstablishedMultiRegionAccessPointPolicy{Policy: aws.String(ap.Policy)}}
		return nil
	})
}

func (c *Control) GetMultiRegionAccessPointPolicyStatus(_ context.Context, in *s3control.GetMultiRegionAccessPointPolicyStatusInput, _ ...func(*s3control.Options)) (*s3control.GetMultiRegionAccessPointPolicyStatusOutput, error) {
	out := &s3control.GetMultiRegionAccessPointPolicyStatusOutput{}
	return out, c.doAP(op.GetMultiRegionAccessPointPolicyStatus, in.AccountId, in.Name, posture.MultiRegionAccessPoint, func(ap *AccessPoint) error {
		out.Established = &types.PolicyStatus{IsPublic: ap.Policy != "" && ap.public()}
		return nil
	})
}

func (c *Control) PutMultiRegionAccessPointPolicy(_ context.Context, in *s3control.PutMultiRegionAccessPointPolicyInput, _ ...func(*s3control.Options)) (*s3control.PutMultiRegionAccessPointPolicyOutput, error) {
	out := &s3control.PutMultiRegionAccessPointPolicyOutput{RequestTokenARN: aws.String("arn:aws:s3:us-west-2:111122223333:async-request/mrap/put-policy/1")}
	var name *string
	if in.Details != nil {
		name = in.Details.Name
	}
	return out, c.doAP(op.PutMultiRegionAccessPointPolicy, in.AccountId, name, posture.MultiRegionAccessPoint, func(ap *AccessPoint) error {
		return c.putPolicy(ap, aws.ToString(in.Details.Policy))
	})
}
