package remediations

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// One interface per call, in the SDK's own shape; the engine's interfaces
// are made of these, so a fake implements only what is used.

// GetPublicAccessBlockAPIClient reads a bucket's Block Public Access.
type GetPublicAccessBlockAPIClient interface {
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
}

// GetBucketPolicyAPIClient reads a bucket policy.
type GetBucketPolicyAPIClient interface {
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
}

// GetBucketPolicyStatusAPIClient reads AWS's verdict on a bucket policy.
type GetBucketPolicyStatusAPIClient interface {
	GetBucketPolicyStatus(context.Context, *s3.GetBucketPolicyStatusInput, ...func(*s3.Options)) (*s3.GetBucketPolicyStatusOutput, error)
}

// GetBucketAclAPIClient reads a bucket ACL.
type GetBucketAclAPIClient interface {
	GetBucketAcl(context.Context, *s3.GetBucketAclInput, ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
}

// GetBucketEncryptionAPIClient reads a bucket's default encryption.
type GetBucketEncryptionAPIClient interface {
	GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
}

// GetBucketTaggingAPIClient reads a bucket's tags.
type GetBucketTaggingAPIClient interface {
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
}

// GetBucketOwnershipControlsAPIClient reads a bucket's Object Ownership.
type GetBucketOwnershipControlsAPIClient interface {
	GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
}

// GetBucketVersioningAPIClient reads a bucket's versioning.
type GetBucketVersioningAPIClient interface {
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
}

// GetBucketLoggingAPIClient reads a bucket's server access logging.
type GetBucketLoggingAPIClient interface {
	GetBucketLogging(context.Context, *s3.GetBucketLoggingInput, ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error)
}

// PostureReader can only read: a clean bucket cannot be written by accident.
type PostureReader interface {
	GetPublicAccessBlockAPIClient
	GetBucketPolicyAPIClient
	GetBucketPolicyStatusAPIClient
	GetBucketAclAPIClient
	GetBucketEncryptionAPIClient
	GetBucketTaggingAPIClient
	GetBucketOwnershipControlsAPIClient
	GetBucketVersioningAPIClient
	GetBucketLoggingAPIClient
}

// BucketWriter makes the bucket-level fixes.
type BucketWriter interface {
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	DeleteBucketPolicy(context.Context, *s3.DeleteBucketPolicyInput, ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error)
	PutBucketAcl(context.Context, *s3.PutBucketAclInput, ...func(*s3.Options)) (*s3.PutBucketAclOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	PutBucketOwnershipControls(context.Context, *s3.PutBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	PutBucketLogging(context.Context, *s3.PutBucketLoggingInput, ...func(*s3.Options)) (*s3.PutBucketLoggingOutput, error)
}

// S3Client is what the engine needs of S3.
type S3Client interface {
	PostureReader
	BucketWriter
}

// AccountReader reads the account's Block Public Access (S3 Control).
type AccountReader interface {
	GetPublicAccessBlock(context.Context, *s3control.GetPublicAccessBlockInput, ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error)
}

// AccountWriter sets the account's Block Public Access.
type AccountWriter interface {
	PutPublicAccessBlock(context.Context, *s3control.PutPublicAccessBlockInput, ...func(*s3control.Options)) (*s3control.PutPublicAccessBlockOutput, error)
}

// ControlClient is what the engine needs of S3 Control.
type ControlClient interface {
	AccountReader
	AccountWriter
}

var (
	_ S3Client      = (*s3.Client)(nil)
	_ ControlClient = (*s3control.Client)(nil)
)
