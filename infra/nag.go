package main

import (
	"sort"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/bucketguard/bucketguard/remediations/config"
)

// suppress records a cdk-nag finding that is accepted, with the reason, on
// the construct and its children.
func suppress(c constructs.IConstruct, id, reason string) {
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{{Id: jsii.String(id), Reason: jsii.String(reason)}}, jsii.Bool(true))
}

// suppressIAM5 accepts the wildcards of a remediation role's policies, and
// only those, by name.
func suppressIAM5(c constructs.IConstruct, cfg config.Config) {
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("bucketguard must be able to fix any bucket and access point of the account: configuration actions only (" +
			strings.Join(cfg.BucketActions(), ", ") + ", and the access point policy actions), never object data, on bucket ARNs of " +
			"this account (s3:ResourceAccount) and this account's access point ARNs; the account-level reads and " +
			"s3:ListAllMyBuckets support no resource-level permissions; the sweep reads every trail of the account (any may feed the rule); every write is tied to the function (lambda:SourceFunctionArn)" +
			reportReason(cfg)),
		AppliesTo: &[]any{
			"Resource::arn:<AWS::Partition>:s3:::*",
			"Resource::arn:<AWS::Partition>:s3:<AWS::Region>:<AWS::AccountId>:accesspoint/*",
			"Resource::arn:<AWS::Partition>:s3-object-lambda:<AWS::Region>:<AWS::AccountId>:accesspoint/*",
			"Resource::arn:<AWS::Partition>:s3::<AWS::AccountId>:accesspoint/*",
			"Resource::*",
		},
	}}, jsii.Bool(true))
}

// reportReason adds Security Hub's "*" to the reason, when it is on.
func reportReason(cfg config.Config) string {
	if !cfg.SecurityHub {
		return ""
	}
	return "; securityhub:BatchUpdateFindings names findings, which IAM cannot scope (granted on *)"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
