package plan

import "github.com/bucketguard/bucketguard/remediations/op"

// The order of the writes. AWS imposes two orderings, and only these:
//
//   - Public access is removed before Block Public Access is turned on.
//     With IgnorePublicAcls on, GetBucketAcl shows only the grants S3
//     enforces, so a public grant left behind would be hidden from the
//     read-back rather than removed; with BlockPublicPolicy on, S3 refuses a
//     PutBucketPolicy it judges public. The bucket's and the account's Block
//     Public Access both wait for the bucket's ACL and policy writes.
//   - ACL grants are gone before BucketOwnerEnforced: S3 refuses
//     BucketOwnerEnforced while the ACL grants access outside the account.
//
// Every other write (default encryption, versioning, logging, access point
// policies) touches a setting no other write reads or checks, so it goes
// out at once, beside the first ones.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
var writeDeps = map[op.Operation][]op.Operation{
	op.PutPublicAccessBlock:        {op.PutBucketAcl, op.PutBucketPolicy, op.DeleteBucketPolicy},
	op.PutAccountPublicAccessBlock: {op.PutBucketAcl, op.PutBucketPolicy, op.DeleteBucketPolicy},
	op.PutBucketOwnershipControls:  {op.PutBucketAcl},
}

// DependsOn reports whether step b must wait until step a has finished.
// Access point policy writes depend on nothing and nothing waits for them.
func DependsOn(b, a Step) bool {
	if a.AccessPoint != nil || b.AccessPoint != nil {
		return false
	}
	for _, o := range writeDeps[b.Op] {
		if a.Op == o {
			return true
		}
	}
	return false
}
