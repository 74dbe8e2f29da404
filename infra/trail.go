package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Trail is an optional multi-region CloudTrail trail. The rule only sees
// "AWS API Call via CloudTrail" events where a trail logs management events.
type Trail struct {
	constructs.Construct
	Trail  awscloudtrail.Trail
	Bucket awss3.Bucket
}

// NewTrail builds the trail, with log file validation, and its own bucket:
// Block Public Access, TLS-only, encryption, versioning and a lifecycle.
func NewTrail(scope constructs.Construct, id string) *Trail {
	c := constructs.NewConstruct(scope, &id)
	bucket := awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id: jsii.String("archive-then-expire"),
			Transitions: &[]*awss3.Transition{{
				StorageClass:    awss3.StorageClass_GLACIER(),
				TransitionAfter: awscdk.Duration_Days(jsii.Number(90)),
			}},
			Expiration:                  awscdk.Duration_Days(jsii.Number(2557)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(90)),
		}},
	})
	suppress(bucket, "AwsSolutions-S1", "the bucket holds CloudTrail's own log files, written only by CloudTrail and validated by digest files; an access-log bucket for it would need the same exemption")
	trail := awscloudtrail.NewTrail(c, jsii.String("Trail"), &awscloudtrail.TrailProps{
		Bucket:                     bucket,
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		EnableFileValidation:       jsii.Bool(true),
		ManagementEvents:           awscloudtrail.ReadWriteType_ALL,
	})
	return &Trail{Construct: c, Trail: trail, Bucket: bucket}
}
