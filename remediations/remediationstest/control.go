package remediationstest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations"
)

// Control is the fake S3 Control client of a Fake.
type Control struct{ f *Fake }

// Control returns the account's S3 Control client.
func (f *Fake) Control() *Control { return &Control{f} }

var _ remediations.ControlClient = (*Control)(nil)

func (c *Control) GetPublicAccessBlock(_ context.Context, in *s3control.GetPublicAccessBlockInput, _ ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error) {
	release, err := c.f.enter("s3control:GetPublicAccessBlock", "")
	if err != nil {
		return nil, err
	}
	defer release()
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if aws.ToString(in.AccountId) != Account {
		return nil, APIError("AccessDenied", "Access Denied")
	}
	b := c.f.accountBPA
	if b == nil {
		return nil, APIError("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
	}
	return &s3control.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(b.BlockPublicAcls), IgnorePublicAcls: aws.Bool(b.IgnorePublicAcls),
		BlockPublicPolicy: aws.Bool(b.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(b.RestrictPublicBuckets)}}, nil
}

func (c *Control) PutPublicAccessBlock(_ context.Context, in *s3control.PutPublicAccessBlockInput, _ ...func(*s3control.Options)) (*s3control.PutPublicAccessBlockOutput, error) {
	release, err := c.f.enter("s3control:PutPublicAccessBlock", "")
	if err != nil {
		return nil, err
	}
	defer release()
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if aws.ToString(in.AccountId) != Account {
		return nil, APIError("AccessDenied", "Access Denied")
	}
	p := in.PublicAccessBlockConfiguration
	c.f.accountBPA = &remediations.BPA{BlockPublicAcls: aws.ToBool(p.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(p.IgnorePublicAcls),
		BlockPublicPolicy: aws.ToBool(p.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(p.RestrictPublicBuckets)}
	return &s3control.PutPublicAccessBlockOutput{}, nil
}
