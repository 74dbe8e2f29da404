package apply

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// S3Writer makes the bucket-level fixes.
type S3Writer interface {
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	DeleteBucketPolicy(context.Context, *s3.DeleteBucketPolicyInput, ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error)
	PutBucketAcl(context.Context, *s3.PutBucketAclInput, ...func(*s3.Options)) (*s3.PutBucketAclOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	PutBucketOwnershipControls(context.Context, *s3.PutBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	PutBucketLogging(context.Context, *s3.PutBucketLoggingInput, ...func(*s3.Options)) (*s3.PutBucketLoggingOutput, error)
}

// AccountWriter sets the account's Block Public Access (S3 Control).
type AccountWriter interface {
	PutPublicAccessBlock(context.Context, *s3control.PutPublicAccessBlockInput, ...func(*s3control.Options)) (*s3control.PutPublicAccessBlockOutput, error)
}

// AccessPointWriter rewrites access point policies (S3 Control).
type AccessPointWriter interface {
	PutAccessPointPolicy(context.Context, *s3control.PutAccessPointPolicyInput, ...func(*s3control.Options)) (*s3control.PutAccessPointPolicyOutput, error)
	DeleteAccessPointPolicy(context.Context, *s3control.DeleteAccessPointPolicyInput, ...func(*s3control.Options)) (*s3control.DeleteAccessPointPolicyOutput, error)
	PutAccessPointPolicyForObjectLambda(context.Context, *s3control.PutAccessPointPolicyForObjectLambdaInput, ...func(*s3control.Options)) (*s3control.PutAccessPointPolicyForObjectLambdaOutput, error)
	DeleteAccessPointPolicyForObjectLambda(context.Context, *s3control.DeleteAccessPointPolicyForObjectLambdaInput, ...func(*s3control.Options)) (*s3control.DeleteAccessPointPolicyForObjectLambdaOutput, error)
	PutMultiRegionAccessPointPolicy(context.Context, *s3control.PutMultiRegionAccessPointPolicyInput, ...func(*s3control.Options)) (*s3control.PutMultiRegionAccessPointPolicyOutput, error)
}

// ControlWriter is what the writes need of S3 Control.
type ControlWriter interface {
	AccountWriter
	AccessPointWriter
}

var (
	_ S3Writer      = (*s3.Client)(nil)
	_ ControlWriter = (*s3control.Client)(nil)
)
