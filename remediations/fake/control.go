package fake

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Control is the fake S3 Control client of a Fake.
type Control struct{ f *Fake }

// Control returns the account's S3 Control client.
func (f *Fake) Control() *Control { return &Control{f} }

var _ remediations.ControlClient = (*Control)(nil)

// do records the call and runs fn under the lock, for this account only.
func (c *Control) do(o op.Operation, account *string, fn func() error) error {
	release, err := c.f.enter(o, "")
	if err != nil {
		return err
	}
	defer release()
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if aws.ToString(account) != Account {
		return APIError("AccessDenied", "Access Denied")
	}
	return fn()
}

func (c *Control) GetPublicAccessBlock(_ context.Context, in *s3control.GetPublicAccessBlockInput, _ ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error) {
	out := &s3control.GetPublicAccessBlockOutput{}
	err := c.do(op.GetAccountPublicAccessBlock, in.AccountId, func() error {
		b := c.f.accountBPA
		if b == nil {
			return APIError("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
		}
		out.PublicAccessBlockConfiguration = &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(b.BlockPublicAcls), IgnorePublicAcls: aws.Bool(b.IgnorePublicAcls),
			BlockPublicPolicy: aws.Bool(b.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(b.RestrictPublicBuckets)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Control) PutPublicAccessBlock(_ context.Context, in *s3control.PutPublicAccessBlockInput, _ ...func(*s3control.Options)) (*s3control.PutPublicAccessBlockOutput, error) {
	err := c.do(op.PutAccountPublicAccessBlock, in.AccountId, func() error {
		p := in.PublicAccessBlockConfiguration
		c.f.accountBPA = &posture.BPA{BlockPublicAcls: aws.ToBool(p.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(p.IgnorePublicAcls),
			BlockPublicPolicy: aws.ToBool(p.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(p.RestrictPublicBuckets)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3control.PutPublicAccessBlockOutput{}, nil
}
