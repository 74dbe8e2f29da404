// Package posture is what bucketguard knows of a target: a bucket's (or the
// account's) settings, each a Fact: set, absent ("not configured" is a fact,
// not a failure), unread, or failed for good. Plain data: the read package
// fills it in, the planner judges it.
package posture

import (
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/policy"
)

// Target is what one evaluation is about: a bucket (with its access
// points), an account-level access point (Object Lambda or Multi-Region),
// or the whole account when both are empty.
type Target struct {
	Account     string          `json:"account"`
	Region      string          `json:"region"`
	Bucket      string          `json:"bucket,omitempty"`
	AccessPoint *AccessPointRef `json:"access_point,omitempty"`
}

// Partition is the AWS partition of the target's region.
func (t Target) Partition() string { return policy.Partition(t.Region) }

// AccountLevel reports whether the target is the account, not a bucket or
// an access point.
func (t Target) AccountLevel() bool { return t.Bucket == "" && t.AccessPoint == nil }

// Name is how an alert names the target.
func (t Target) Name() string {
	switch {
	case t.Bucket != "":
		return t.Bucket
	case t.AccessPoint != nil:
		return t.AccessPoint.String()
	}
	return "account " + t.Account
}

// AccessPointKind says which kind of access point.
type AccessPointKind string

// The kinds of access point.
const (
	// BucketAccessPoint is an access point of a general purpose bucket.
	BucketAccessPoint AccessPointKind = "access-point"
	// ObjectLambdaAccessPoint transforms objects read through a supporting
	// access point.
	ObjectLambdaAccessPoint AccessPointKind = "object-lambda"
	// MultiRegionAccessPoint routes to buckets in several regions; its
	// control plane is in us-west-2.
	MultiRegionAccessPoint AccessPointKind = "multi-region"
)

// AccessPointRef names one access point.
type AccessPointRef struct {
	Kind AccessPointKind `json:"kind"`
	Name string          `json:"name"`
}

func (r AccessPointRef) String() string {
	switch r.Kind {
	case ObjectLambdaAccessPoint:
		return "Object Lambda access point " + r.Name
	case MultiRegionAccessPoint:
		return "Multi-Region Access Point " + r.Name
	}
	return "access point " + r.Name
}

// AccessPoint is one access point as read.
type AccessPoint struct {
	AccessPointRef
	// Alias is how a Multi-Region Access Point's ARN names it.
	Alias  string `json:"alias,omitempty"`
	ARN    string `json:"arn,omitempty"`
	Bucket string `json:"bucket,omitempty"`
	// NetworkOrigin is Internet or VPC: an access point with a VPC network
	// origin is never public, whatever its policy says.
	NetworkOrigin string `json:"network_origin,omitempty"`
	// Supporting is the access point an Object Lambda access point reads
	// through.
	Supporting string `json:"supporting_access_point,omitempty"`
	// BPA is the access point's own Block Public Access, fixed at creation
	// (an Object Lambda access point has none: its supporting one applies).
	BPA          Fact[BPA]    `json:"bpa"`
	Policy       Fact[string] `json:"policy"`
	PolicyStatus Fact[bool]   `json:"policy_status"`
}

// VPC is the NetworkOrigin of an access point reachable only from a VPC.
const VPC = "VPC"

// State says what a read learnt about a setting.
type State string

// The states of a Fact.
const (
	Set    State = "set"    // configured; Value holds it
	Absent State = "absent" // not configured: a fact, not a failure
	Unread State = "unread" // not asked for (a control is off)
	Failed State = "failed" // the read failed for good; Error says why
)

// Fact is one setting as read.
type Fact[T any] struct {
	State State  `json:"state"`
	Value T      `json:"value,omitzero"`
	Error string `json:"error,omitempty"`
	// Code is the AWS error code of a failed read: AccessDenied is a refusal
	// for good, which some decisions treat apart.
	Code string `json:"code,omitempty"`
}

// Denied reports whether the read was refused (AccessDenied).
func (f Fact[T]) Denied() bool { return f.State == Failed && f.Code == "AccessDenied" }

// Known reports whether the read succeeded, set or absent.
func (f Fact[T]) Known() bool { return f.State == Set || f.State == Absent }

// BPA is a Block Public Access configuration, bucket or account.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-options
type BPA struct {
	BlockPublicAcls       bool `json:"block_public_acls"`
	IgnorePublicAcls      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

// AllOn is the configuration with all four settings on.
var AllOn = BPA{true, true, true, true}

// Covers reports whether b has every setting that want has.
func (b BPA) Covers(want BPA) bool {
	return (b.BlockPublicAcls || !want.BlockPublicAcls) &&
		(b.IgnorePublicAcls || !want.IgnorePublicAcls) &&
		(b.BlockPublicPolicy || !want.BlockPublicPolicy) &&
		(b.RestrictPublicBuckets || !want.RestrictPublicBuckets)
}

// Or returns the settings on in either.
func (b BPA) Or(o BPA) BPA {
	return BPA{b.BlockPublicAcls || o.BlockPublicAcls, b.IgnorePublicAcls || o.IgnorePublicAcls,
		b.BlockPublicPolicy || o.BlockPublicPolicy, b.RestrictPublicBuckets || o.RestrictPublicBuckets}
}

// Off names the settings that want has and b lacks.
func (b BPA) Off(want BPA) []string {
	var off []string
	for _, s := range []struct {
		name      string
		have, req bool
	}{
		{"BlockPublicAcls", b.BlockPublicAcls, want.BlockPublicAcls},
		{"IgnorePublicAcls", b.IgnorePublicAcls, want.IgnorePublicAcls},
		{"BlockPublicPolicy", b.BlockPublicPolicy, want.BlockPublicPolicy},
		{"RestrictPublicBuckets", b.RestrictPublicBuckets, want.RestrictPublicBuckets},
	} {
		if s.req && !s.have {
			off = append(off, s.name)
		}
	}
	return off
}

// Encryption is a bucket's default encryption.
type Encryption struct {
	// Algorithm is AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse.
	Algorithm string `json:"algorithm"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
	BucketKey bool   `json:"bucket_key,omitempty"`
	// BlockedTypes are the object encryption types the bucket refuses
	// (today only SSE-C). A rewrite must carry them over.
	BlockedTypes []string `json:"blocked_encryption_types,omitempty"`
}

// Website is a bucket's static website configuration: its endpoint serves
// HTTP only, to anonymous callers, what the bucket makes public.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html
type Website struct {
	IndexDocument string `json:"index_document,omitempty"`
	// RedirectAllTo is the host every request is redirected to, for a
	// redirect-only site.
	RedirectAllTo string `json:"redirect_all_to,omitempty"`
}

// Logging is a bucket's server access logging target.
type Logging struct {
	TargetBucket string `json:"target_bucket"`
	TargetPrefix string `json:"target_prefix"`
}

// Object Ownership values.
const (
	BucketOwnerEnforced  = "BucketOwnerEnforced"
	BucketOwnerPreferred = "BucketOwnerPreferred"
	ObjectWriter         = "ObjectWriter"
)

// Posture is everything bucketguard knows about a target, read in one round.
type Posture struct {
	Target
	BucketBPA  Fact[BPA]               `json:"bucket_bpa"`
	AccountBPA Fact[BPA]               `json:"account_bpa"`
	Policy     Fact[string]            `json:"policy"`
	ACL        Fact[acl.ACL]           `json:"acl"`
	Encryption Fact[Encryption]        `json:"encryption"`
	Tags       Fact[map[string]string] `json:"tags"`
	Ownership  Fact[string]            `json:"ownership"`
	Versioning Fact[string]            `json:"versioning"`
	Logging    Fact[Logging]           `json:"logging"`
	Website    Fact[Website]           `json:"website"`
	// PolicyStatus is AWS's own verdict (GetBucketPolicyStatus.IsPublic),
	// read only to cross-check bucketguard's.
	PolicyStatus Fact[bool] `json:"policy_status"`
	// AccessPoints are the bucket's access points, or the one account-level
	// access point the target names.
	AccessPoints Fact[[]AccessPoint] `json:"access_points"`
	// AccessPointsCapped says the bucket has more access points than an
	// evaluation judges (read.MaxAccessPoints).
	AccessPointsCapped bool `json:"access_points_capped,omitempty"`
}
