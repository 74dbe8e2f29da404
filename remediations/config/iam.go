package config

import "sort"

// Operation names an API call the engine makes: "s3:GetBucketPolicy",
// "s3control:PutPublicAccessBlock". The fakes count calls under these names.
type Operation string

// actionOf maps each operation to the IAM action that authorizes it. The
// names differ in places: GetBucketEncryption needs
// s3:GetEncryptionConfiguration, and the S3 Control Block Public Access calls
// need the s3:...AccountPublicAccessBlock actions.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
var actionOf = map[Operation]string{
	"s3:GetPublicAccessBlock":        "s3:GetBucketPublicAccessBlock",
	"s3:PutPublicAccessBlock":        "s3:PutBucketPublicAccessBlock",
	"s3:GetBucketPolicy":             "s3:GetBucketPolicy",
	"s3:PutBucketPolicy":             "s3:PutBucketPolicy",
	"s3:DeleteBucketPolicy":          "s3:DeleteBucketPolicy",
	"s3:GetBucketPolicyStatus":       "s3:GetBucketPolicyStatus",
	"s3:GetBucketAcl":                "s3:GetBucketAcl",
	"s3:PutBucketAcl":                "s3:PutBucketAcl",
	"s3:GetBucketEncryption":         "s3:GetEncryptionConfiguration",
	"s3:PutBucketEncryption":         "s3:PutEncryptionConfiguration",
	"s3:GetBucketTagging":            "s3:GetBucketTagging",
	"s3:GetBucketOwnershipControls":  "s3:GetBucketOwnershipControls",
	"s3:PutBucketOwnershipControls":  "s3:PutBucketOwnershipControls",
	"s3:GetBucketVersioning":         "s3:GetBucketVersioning",
	"s3:PutBucketVersioning":         "s3:PutBucketVersioning",
	"s3:GetBucketLogging":            "s3:GetBucketLogging",
	"s3:PutBucketLogging":            "s3:PutBucketLogging",
	"s3control:GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
	"s3control:PutPublicAccessBlock": "s3:PutAccountPublicAccessBlock",
	"s3:ListBuckets":                 "s3:ListAllMyBuckets",
}

// SweepActions are the actions the sweep needs beyond the engine's: listing
// the account's buckets (no resource-level permissions, so on "*").
func SweepActions() []string { return actions([]Operation{"s3:ListBuckets"}) }

// ActionFor returns the IAM action an operation needs, and whether it is known.
func ActionFor(op Operation) (string, bool) {
	a, ok := actionOf[op]
	return a, ok
}

// BucketActions are the IAM actions the engine needs on bucket ARNs
// (arn:aws:s3:::*), for this configuration. None of them touches object data.
func (c Config) BucketActions() []string {
	ops := []Operation{
		"s3:GetPublicAccessBlock", "s3:PutPublicAccessBlock",
		"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketPolicyStatus",
		"s3:GetBucketAcl", "s3:PutBucketAcl",
		"s3:GetBucketEncryption", "s3:PutBucketEncryption",
		"s3:GetBucketTagging", "s3:GetBucketOwnershipControls",
	}
	if c.EnforceOwnership {
		ops = append(ops, "s3:PutBucketOwnershipControls")
	}
	if c.EnforceVersioning {
		ops = append(ops, "s3:GetBucketVersioning", "s3:PutBucketVersioning")
	}
	if c.AccessLogBucket != "" {
		ops = append(ops, "s3:GetBucketLogging", "s3:PutBucketLogging")
	}
	return actions(ops)
}

// AccountActions are the account-level IAM actions the engine needs. They do
// not support resource-level permissions, so they are granted on "*".
func (c Config) AccountActions() []string {
	ops := []Operation{"s3control:GetPublicAccessBlock"}
	if c.EnforceAccountBPA {
		ops = append(ops, "s3control:PutPublicAccessBlock")
	}
	return actions(ops)
}

func actions(ops []Operation) []string {
	seen := map[string]bool{}
	var out []string
	for _, op := range ops {
		a := actionOf[op]
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}
