package sweep_test

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

type (
	s3ListBucketsInput  = s3.ListBucketsInput
	s3ListBucketsOutput = s3.ListBucketsOutput
)

func s3Bucket(name, region string) types.Bucket {
	return types.Bucket{Name: &name, BucketRegion: &region}
}

// listerFunc adapts a function to sweep.Lister.
type listerFunc func(context.Context, *s3.ListBucketsInput) (*s3.ListBucketsOutput, error)

func (f listerFunc) ListBuckets(ctx context.Context, in *s3.ListBucketsInput, _ ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	return f(ctx, in)
}
