package read

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// One interface per call, in the SDK's own shape; Reader is made of them, so
// a fake implements only what is read.

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

// GetBucketWebsiteAPIClient reads a bucket's website configuration.
type GetBucketWebsiteAPIClient interface {
	GetBucketWebsite(context.Context, *s3.GetBucketWebsiteInput, ...func(*s3.Options)) (*s3.GetBucketWebsiteOutput, error)
}

// S3Reader can only read: a clean bucket cannot be written by accident.
type S3Reader interface {
	GetPublicAccessBlockAPIClient
	GetBucketPolicyAPIClient
	GetBucketPolicyStatusAPIClient
	GetBucketAclAPIClient
	GetBucketEncryptionAPIClient
	GetBucketTaggingAPIClient
	GetBucketOwnershipControlsAPIClient
	GetBucketVersioningAPIClient
	GetBucketLoggingAPIClient
	GetBucketWebsiteAPIClient
}

// AccountReader reads the account's Block Public Access (S3 Control).
type AccountReader interface {
	GetPublicAccessBlock(context.Context, *s3control.GetPublicAccessBlockInput, ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error)
}

// AccessPointReader reads access points: a bucket's, Object Lambda ones and
// Multi-Region ones (S3 Control).
type AccessPointReader interface {
	ListAccessPoints(context.Context, *s3control.ListAccessPointsInput, ...func(*s3control.Options)) (*s3control.ListAccessPointsOutput, error)
	GetAccessPoint(context.Context, *s3control.GetAccessPointInput, ...func(*s3control.Options)) (*s3control.GetAccessPointOutput, error)
	GetAccessPointPolicy(context.Context, *s3control.GetAccessPointPolicyInput, ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyOutput, error)
	GetAccessPointPolicyStatus(context.Context, *s3control.GetAccessPointPolicyStatusInput, ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyStatusOutput, error)
	ListAccessPointsForObjectLambda(context.Context, *s3control.ListAccessPointsForObjectLambdaInput, ...func(*s3control.Options)) (*s3control.ListAccessPointsForObjectLambdaOutput, error)
	GetAccessPointConfigurationForObjectLambda(context.Context, *s3control.GetAccessPointConfigurationForObjectLambdaInput, ...func(*s3control.Options)) (*s3control.GetAccessPointConfigurationForObjectLambdaOutput, error)
	GetAccessPointPolicyForObjectLambda(context.Context, *s3control.GetAccessPointPolicyForObjectLambdaInput, ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyForObjectLambdaOutput, error)
	GetAccessPointPolicyStatusForObjectLambda(context.Context, *s3control.GetAccessPointPolicyStatusForObjectLambdaInput, ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyStatusForObjectLambdaOutput, error)
	ListMultiRegionAccessPoints(context.Context, *s3control.ListMultiRegionAccessPointsInput, ...func(*s3control.Options)) (*s3control.ListMultiRegionAccessPointsOutput, error)
	GetMultiRegionAccessPoint(context.Context, *s3control.GetMultiRegionAccessPointInput, ...func(*s3control.Options)) (*s3control.GetMultiRegionAccessPointOutput, error)
	GetMultiRegionAccessPointPolicy(context.Context, *s3control.GetMultiRegionAccessPointPolicyInput, ...func(*s3control.Options)) (*s3control.GetMultiRegionAccessPointPolicyOutput, error)
	GetMultiRegionAccessPointPolicyStatus(context.Context, *s3control.GetMultiRegionAccessPointPolicyStatusInput, ...func(*s3control.Options)) (*s3control.GetMultiRegionAccessPointPolicyStatusOutput, error)
}

// ControlReader is what a read round needs of S3 Control.
type ControlReader interface {
	AccountReader
	AccessPointReader
}

// Clients are what a read round reads through.
type Clients struct {
	S3      S3Reader
	Control ControlReader
}

var (
	_ S3Reader      = (*s3.Client)(nil)
	_ ControlReader = (*s3control.Client)(nil)
)
