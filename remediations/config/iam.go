package config

import "github.com/bucketguard/bucketguard/remediations/op"

// Operations are the S3 and S3 Control calls the engine may make under this
// configuration: the posture reads, the fixes' writes and their read-backs.
// The stack grants exactly their IAM actions; an engine test checks that
// every call it makes is among them.
func (c Config) Operations() []op.Operation {
	ops := []op.Operation{
		op.GetAccountPublicAccessBlock,
		op.GetPublicAccessBlock, op.PutPublicAccessBlock,
		op.GetBucketPolicy, op.PutBucketPolicy, op.DeleteBucketPolicy, op.GetBucketPolicyStatus,
		op.GetBucketAcl, op.PutBucketAcl,
		op.GetBucketEncryption, op.PutBucketEncryption,
		op.GetBucketTagging, op.GetBucketOwnershipControls, op.GetBucketWebsite,
		// A bucket's access points, and the account-level ones.
		op.ListAccessPoints, op.GetAccessPoint, op.GetAccessPointPolicy, op.GetAccessPointPolicyStatus,
		op.PutAccessPointPolicy, op.DeleteAccessPointPolicy,
		op.ListAccessPointsForObjectLambda, op.GetAccessPointConfigurationForObjectLambda, op.GetAccessPointPolicyForObjectLambda,
		op.GetAccessPointPolicyStatusForObjectLambda, op.PutAccessPointPolicyForObjectLambda, op.DeleteAccessPointPolicyForObjectLambda,
		op.ListMultiRegionAccessPoints, op.GetMultiRegionAccessPoint, op.GetMultiRegionAccessPointPolicy,
		op.GetMultiRegionAccessPointPolicyStatus, op.PutMultiRegionAccessPointPolicy,
		// AWS's second opinion on every policy written.
		op.CheckNoPublicAccess,
	}
	if c.EnforceOwnership {
		ops = append(ops, op.PutBucketOwnershipControls)
	}
	if c.EnforceVersioning {
		ops = append(ops, op.GetBucketVersioning, op.PutBucketVersioning)
	}
	if c.AccessLogBucket != "" {
		ops = append(ops, op.GetBucketLogging, op.PutBucketLogging)
	}
	if c.EnforceAccountBPA {
		ops = append(ops, op.PutAccountPublicAccessBlock)
	}
	return ops
}

// BucketActions are the IAM actions the engine needs on bucket ARNs
// (arn:aws:s3:::*), for this configuration. None of them touches object data.
func (c Config) BucketActions() []string { return op.Actions(c.Operations(), op.Bucket) }

// AccountActions are the account-level IAM actions the engine needs. They do
// not support resource-level permissions, so they are granted on "*".
func (c Config) AccountActions() []string { return op.Actions(c.Operations(), op.Account) }

// Actions are the IAM actions of Operations granted on one kind of resource.
func (c Config) Actions(on op.Resource) []string { return op.Actions(c.Operations(), on) }

// ReadActions and WriteActions split Actions by kind: the stack ties the
// writes to the functions themselves.
func (c Config) ReadActions(on op.Resource) []string { return op.Actions(c.kind(op.Read), on) }

// WriteActions: see ReadActions.
func (c Config) WriteActions(on op.Resource) []string { return op.Actions(c.kind(op.Write), on) }

func (c Config) kind(k op.Kind) []op.Operation {
	var out []op.Operation
	for _, o := range c.Operations() {
		if s, _ := op.Lookup(o); s.Kind == k {
			out = append(out, o)
		}
	}
	return out
}

// SweepOperations are the calls the sweep makes beyond the engine's:
// listing the account's buckets, and reading its trails (the home region's
// check that a trail feeds the rule). None writes.
func SweepOperations() []op.Operation {
	return []op.Operation{op.ListBuckets, op.DescribeTrails, op.GetTrailStatus, op.GetEventSelectors}
}

// SweepActions are the IAM actions of SweepOperations, all granted on "*":
// ListAllMyBuckets supports no resource-level permission, and any trail of
// the account may feed the rule.
func SweepActions() []string {
	return append(op.Actions(SweepOperations(), op.Account), op.Actions(SweepOperations(), op.Trails)...)
}

// ReportOperations are the calls made beside the alert under this
// configuration: Security Hub's, when it is on. Nothing here touches a
// bucket: the findings are kept in Security Hub, never on the buckets.
func (c Config) ReportOperations() []op.Operation {
	if !c.SecurityHub {
		return nil
	}
	return []op.Operation{op.BatchImportFindings, op.BatchUpdateFindings}
}
