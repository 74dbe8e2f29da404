// Package events turns an EventBridge "AWS API Call via CloudTrail" event for
// Amazon S3 into a typed Change, and holds the one list of CloudTrail event
// names that bucketguard watches. The parser, the CDK rule and the docs all
// read that list; nothing else spells the names.
package events

// Name is an event name exactly as CloudTrail writes it in eventName. It is
// not always the API's name: the S3 API DeletePublicAccessBlock is logged as
// DeleteBucketPublicAccessBlock, and the S3 Control API PutPublicAccessBlock as
// PutAccountPublicAccessBlock.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
type Name string

// The CloudTrail event names bucketguard watches. All are written with
// eventSource s3.amazonaws.com: S3 Control calls (account Block Public
// Access, access points, TagResource) are logged under the S3 service too.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
const (
	CreateBucket                   Name = "CreateBucket"
	PutBucketPolicy                Name = "PutBucketPolicy"
	DeleteBucketPolicy             Name = "DeleteBucketPolicy"
	PutBucketAcl                   Name = "PutBucketAcl"
	PutBucketPublicAccessBlock     Name = "PutBucketPublicAccessBlock"
	DeleteBucketPublicAccessBlock  Name = "DeleteBucketPublicAccessBlock"
	PutBucketEncryption            Name = "PutBucketEncryption"
	DeleteBucketEncryption         Name = "DeleteBucketEncryption"
	PutBucketOwnershipControls     Name = "PutBucketOwnershipControls"
	DeleteBucketOwnershipControls  Name = "DeleteBucketOwnershipControls"
	PutBucketTagging               Name = "PutBucketTagging"
	DeleteBucketTagging            Name = "DeleteBucketTagging"
	PutBucketVersioning            Name = "PutBucketVersioning"
	PutBucketLogging               Name = "PutBucketLogging"
	PutAccountPublicAccessBlock    Name = "PutAccountPublicAccessBlock"
	DeleteAccountPublicAccessBlock Name = "DeleteAccountPublicAccessBlock"
	PutBucketWebsite               Name = "PutBucketWebsite"
	DeleteBucketWebsite            Name = "DeleteBucketWebsite"
	PutBucketAbac                  Name = "PutBucketAbac"
	TagResource                    Name = "TagResource"
	UntagResource                  Name = "UntagResource"

	CreateAccessPoint                          Name = "CreateAccessPoint"
	PutAccessPointPolicy                       Name = "PutAccessPointPolicy"
	DeleteAccessPointPolicy                    Name = "DeleteAccessPointPolicy"
	CreateAccessPointForObjectLambda           Name = "CreateAccessPointForObjectLambda"
	PutAccessPointPolicyForObjectLambda        Name = "PutAccessPointPolicyForObjectLambda"
	PutAccessPointConfigurationForObjectLambda Name = "PutAccessPointConfigurationForObjectLambda"
	CreateMultiRegionAccessPoint               Name = "CreateMultiRegionAccessPoint"
	PutMultiRegionAccessPointPolicy            Name = "PutMultiRegionAccessPointPolicy"
)

// EventSource is the eventSource of every S3 management event, bucket-level
// and account-level (S3 Control) alike.
const EventSource = "s3.amazonaws.com"

// Scope says whether an event is about one bucket or the whole account.
type Scope string

// Scopes of a watched event.
const (
	BucketScope  Scope = "bucket"
	AccountScope Scope = "account"
	// AccessPointScope: an access point of a bucket; the bucket is
	// evaluated, with all its access points.
	AccessPointScope Scope = "access point"
	// ObjectLambdaScope and MultiRegionScope: an account-level access
	// point, evaluated on its own.
	ObjectLambdaScope Scope = "Object Lambda access point"
	MultiRegionScope  Scope = "Multi-Region Access Point"
)

// Watch describes one watched event: the name CloudTrail writes, the API call
// behind it and why a change through it can matter.
type Watch struct {
	Name  Name
	API   string
	Scope Scope
	Why   string
}

// watched is the one list. Order is the order of the docs table (docs/events.md).
var watched = []Watch{
	{CreateBucket, "s3:CreateBucket", BucketScope, "a new bucket gets the baseline (encryption, TLS-only, Block Public Access)"},
	{PutBucketPolicy, "s3:PutBucketPolicy", BucketScope, "a statement may grant public read or write"},
	{DeleteBucketPolicy, "s3:DeleteBucketPolicy", BucketScope, "removes the TLS-only statement with the rest"},
	{PutBucketAcl, "s3:PutBucketAcl", BucketScope, "a grant to AllUsers or AuthenticatedUsers is public"},
	{PutBucketPublicAccessBlock, "s3:PutPublicAccessBlock", BucketScope, "a setting may have been turned off"},
	{DeleteBucketPublicAccessBlock, "s3:DeletePublicAccessBlock", BucketScope, "all four settings are gone"},
	{PutBucketEncryption, "s3:PutBucketEncryption", BucketScope, "the default may now be weaker than configured"},
	{DeleteBucketEncryption, "s3:DeleteBucketEncryption", BucketScope, "the default is back to SSE-S3 or absent"},
	{PutBucketOwnershipControls, "s3:PutBucketOwnershipControls", BucketScope, "ACLs may have been turned back on"},
	{DeleteBucketOwnershipControls, "s3:DeleteBucketOwnershipControls", BucketScope, "ACLs may have been turned back on"},
	{PutBucketTagging, "s3:PutBucketTagging", BucketScope, "the public-read approval tag may have been added or changed"},
	{DeleteBucketTagging, "s3:DeleteBucketTagging", BucketScope, "the public-read approval tag may have been removed"},
	{PutBucketVersioning, "s3:PutBucketVersioning", BucketScope, "versioning may have been suspended (when that control is on)"},
	{PutBucketLogging, "s3:PutBucketLogging", BucketScope, "server access logging may have been turned off (when that control is on)"},
	{PutAccountPublicAccessBlock, "s3control:PutPublicAccessBlock", AccountScope, "an account-wide setting may have been turned off"},
	{DeleteAccountPublicAccessBlock, "s3control:DeletePublicAccessBlock", AccountScope, "the account-wide settings are gone"},
	{PutBucketWebsite, "s3:PutBucketWebsite", BucketScope, "a website endpoint serves HTTP only: no TLS-only statement, and an unapproved site is unreachable"},
	{DeleteBucketWebsite, "s3:DeleteBucketWebsite", BucketScope, "the website is gone: the TLS-only statement applies again"},
	{PutBucketAbac, "s3:PutBucketAbac", BucketScope, "attribute-based access control on: tags now change through TagResource"},
	{TagResource, "s3control:TagResource", BucketScope, "the public-read approval tag may have been added or changed (buckets with ABAC)"},
	{UntagResource, "s3control:UntagResource", BucketScope, "the public-read approval tag may have been removed (buckets with ABAC)"},
	{CreateAccessPoint, "s3control:CreateAccessPoint", AccessPointScope, "a new access point, perhaps with Block Public Access off"},
	{PutAccessPointPolicy, "s3control:PutAccessPointPolicy", AccessPointScope, "an access point statement may grant public read or write"},
	{DeleteAccessPointPolicy, "s3control:DeleteAccessPointPolicy", AccessPointScope, "the access point's policy is gone"},
	{CreateAccessPointForObjectLambda, "s3control:CreateAccessPointForObjectLambda", ObjectLambdaScope, "a new Object Lambda access point"},
	{PutAccessPointPolicyForObjectLambda, "s3control:PutAccessPointPolicyForObjectLambda", ObjectLambdaScope, "a statement may open an Object Lambda access point to the public"},
	{PutAccessPointConfigurationForObjectLambda, "s3control:PutAccessPointConfigurationForObjectLambda", ObjectLambdaScope, "the supporting access point may have changed"},
	{CreateMultiRegionAccessPoint, "s3control:CreateMultiRegionAccessPoint", MultiRegionScope, "a new Multi-Region Access Point, perhaps with Block Public Access off"},
	{PutMultiRegionAccessPointPolicy, "s3control:PutMultiRegionAccessPointPolicy", MultiRegionScope, "a statement may open a Multi-Region Access Point to the public"},
}

// Watched returns a copy of the watched events, in the docs order.
func Watched() []Watch {
	out := make([]Watch, len(watched))
	copy(out, watched)
	return out
}

// WatchedNames returns the watched event names as strings, ready for an
// EventBridge pattern's detail.eventName list.
func WatchedNames() []string {
	out := make([]string, len(watched))
	for i, w := range watched {
		out[i] = string(w.Name)
	}
	return out
}

// Lookup returns the watch for a name and whether it is watched.
func Lookup(n Name) (Watch, bool) {
	for _, w := range watched {
		if w.Name == n {
			return w, true
		}
	}
	return Watch{}, false
}

// IsWatched reports whether n is on the list.
func (n Name) IsWatched() bool {
	_, ok := Lookup(n)
	return ok
}

// IsAccountLevel reports whether n changes the whole account rather than one
// bucket.
func (n Name) IsAccountLevel() bool { return n.Scope() == AccountScope }

// ChangesTags reports whether a call can set or remove a bucket's tags (the
// public-read approval among them): tagging, untagging, turning attribute-
// based access control on (tags then change through TagResource), and
// creating a bucket, which can carry tags.
func (n Name) ChangesTags() bool {
	switch n {
	case PutBucketTagging, DeleteBucketTagging, TagResource, UntagResource, CreateBucket, PutBucketAbac:
		return true
	}
	return false
}

// ChangesPublicSurface reports whether a call can change what an approved
// bucket serves publicly: its policy, or its Block Public Access.
func (n Name) ChangesPublicSurface() bool {
	switch n {
	case PutBucketPolicy, DeleteBucketPolicy, PutBucketPublicAccessBlock, DeleteBucketPublicAccessBlock, PutAccountPublicAccessBlock, DeleteAccountPublicAccessBlock:
		return true
	}
	return false
}

// Scope is the scope of a watched name, "" for another.
func (n Name) Scope() Scope {
	w, _ := Lookup(n)
	return w.Scope
}
