// Package op is bucketguard's vocabulary of AWS calls: every operation the
// engine, the sweep and the alert path make, in one list, each with the IAM
// action that authorizes it, the resource it is granted on, and, for a
// configuration write, the read that shows its effect. The reads, the writes,
// the read-backs, the fakes' call counts and the stack's IAM policy are all
// checked against this list; nothing else spells an operation.
package op

import (
	"fmt"
	"slices"
)

// Operation names an API call as "service:Name": "s3:GetBucketPolicy",
// "s3control:PutPublicAccessBlock".
type Operation string

// Reads of a bucket's configuration (S3).
const (
	GetPublicAccessBlock       Operation = "s3:GetPublicAccessBlock"
	GetBucketPolicy            Operation = "s3:GetBucketPolicy"
	GetBucketPolicyStatus      Operation = "s3:GetBucketPolicyStatus"
	GetBucketAcl               Operation = "s3:GetBucketAcl"
	GetBucketEncryption        Operation = "s3:GetBucketEncryption"
	GetBucketTagging           Operation = "s3:GetBucketTagging"
	GetBucketOwnershipControls Operation = "s3:GetBucketOwnershipControls"
	GetBucketVersioning        Operation = "s3:GetBucketVersioning"
	GetBucketLogging           Operation = "s3:GetBucketLogging"
	GetBucketWebsite           Operation = "s3:GetBucketWebsite"
)

// Writes of a bucket's configuration (S3).
const (
	PutPublicAccessBlock       Operation = "s3:PutPublicAccessBlock"
	PutBucketPolicy            Operation = "s3:PutBucketPolicy"
	DeleteBucketPolicy         Operation = "s3:DeleteBucketPolicy"
	PutBucketAcl               Operation = "s3:PutBucketAcl"
	PutBucketEncryption        Operation = "s3:PutBucketEncryption"
	PutBucketOwnershipControls Operation = "s3:PutBucketOwnershipControls"
	PutBucketVersioning        Operation = "s3:PutBucketVersioning"
	PutBucketLogging           Operation = "s3:PutBucketLogging"
)

// The account's Block Public Access (S3 Control), the bucket list and a
// bucket's region.
const (
	GetAccountPublicAccessBlock Operation = "s3control:GetPublicAccessBlock"
	PutAccountPublicAccessBlock Operation = "s3control:PutPublicAccessBlock"
	ListBuckets                 Operation = "s3:ListBuckets"
	GetBucketLocation           Operation = "s3:GetBucketLocation"
)

// Access points: of a bucket, Object Lambda, Multi-Region (S3 Control).
const (
	ListAccessPoints           Operation = "s3control:ListAccessPoints"
	GetAccessPoint             Operation = "s3control:GetAccessPoint"
	GetAccessPointPolicy       Operation = "s3control:GetAccessPointPolicy"
	GetAccessPointPolicyStatus Operation = "s3control:GetAccessPointPolicyStatus"
	PutAccessPointPolicy       Operation = "s3control:PutAccessPointPolicy"
	DeleteAccessPointPolicy    Operation = "s3control:DeleteAccessPointPolicy"

	ListAccessPointsForObjectLambda            Operation = "s3control:ListAccessPointsForObjectLambda"
	GetAccessPointConfigurationForObjectLambda Operation = "s3control:GetAccessPointConfigurationForObjectLambda"
	GetAccessPointPolicyForObjectLambda        Operation = "s3control:GetAccessPointPolicyForObjectLambda"
	GetAccessPointPolicyStatusForObjectLambda  Operation = "s3control:GetAccessPointPolicyStatusForObjectLambda"
	PutAccessPointPolicyForObjectLambda        Operation = "s3control:PutAccessPointPolicyForObjectLambda"
	DeleteAccessPointPolicyForObjectLambda     Operation = "s3control:DeleteAccessPointPolicyForObjectLambda"

	ListMultiRegionAccessPoints           Operation = "s3control:ListMultiRegionAccessPoints"
	GetMultiRegionAccessPoint             Operation = "s3control:GetMultiRegionAccessPoint"
	GetMultiRegionAccessPointPolicy       Operation = "s3control:GetMultiRegionAccessPointPolicy"
	GetMultiRegionAccessPointPolicyStatus Operation = "s3control:GetMultiRegionAccessPointPolicyStatus"
	PutMultiRegionAccessPointPolicy       Operation = "s3control:PutMultiRegionAccessPointPolicy"
)

// The alert path and the sweep's continuation.
const (
	Publish     Operation = "sns:Publish"
	SendMessage Operation = "sqs:SendMessage"
	GetItem     Operation = "dynamodb:GetItem"
	PutItem     Operation = "dynamodb:PutItem"
	UpdateItem  Operation = "dynamodb:UpdateItem"
	DeleteItem  Operation = "dynamodb:DeleteItem"
	Invoke      Operation = "lambda:Invoke"
	// Scan reads the Security Hub finding states the ledger keeps: the
	// sweep's reconciliation, once a run, when Security Hub is on.
	Scan Operation = "dynamodb:Scan"
)

// PutEvents sends to the organization's central bus, when one is
// configured: the sweep's heartbeat after each run, and both functions'
// outcome events.
const PutEvents Operation = "events:PutEvents"

// The operator's own writes (bucketguard undo), made with the operator's
// credentials: never granted to bucketguard's roles.
const PutBucketTagging Operation = "s3:PutBucketTagging"

// IAM Access Analyzer's custom policy check: AWS's second opinion on a
// policy bucketguard is about to write.
const CheckNoPublicAccess Operation = "access-analyzer:CheckNoPublicAccess"

// Security Hub: the findings bucketguard keeps there, when it is on.
const (
	BatchImportFindings Operation = "securityhub:BatchImportFindings"
	BatchUpdateFindings Operation = "securityhub:BatchUpdateFindings"
)

// CloudTrail: the sweep's check that a trail feeds bucketguard's rule.
const (
	DescribeTrails    Operation = "cloudtrail:DescribeTrails"
	GetTrailStatus    Operation = "cloudtrail:GetTrailStatus"
	GetEventSelectors Operation = "cloudtrail:GetEventSelectors"
)

// Trails: "*". Any trail of the account may feed the rule (an organization
// trail, a multi-region trail of another region), so the reads are granted
// on every trail.
const Trails Resource = "trails"

// Kind says whether an operation reads or writes.
type Kind string

// The kinds.
const (
	Read  Kind = "read"
	Write Kind = "write"
)

// Resource is what the IAM action is granted on.
type Resource string

// The resources.
const (
	// Bucket: arn:<partition>:s3:::*, limited to the account's buckets.
	Bucket Resource = "bucket"
	// Account: "*": the action supports no resource-level permission (or,
	// for GetAccessPoint, the reference has listed none: "*" grants it
	// either way, and it only reads).
	Account Resource = "account"
	// The account's access points: arn:<partition>:s3:<region>:<account>:accesspoint/*.
	AccessPointARN Resource = "accesspoint"
	// arn:<partition>:s3-object-lambda:<region>:<account>:accesspoint/*.
	ObjectLambdaARN Resource = "objectlambdaaccesspoint"
	// arn:<partition>:s3::<account>:accesspoint/* (by alias).
	MultiRegionARN Resource = "multiregionaccesspoint"
	// The stack's own resources, each granted on its one ARN.
	// OperatorBucket is a bucket written by an operator's own credentials
	// (bucketguard undo), never by bucketguard's roles.
	OperatorBucket Resource = "operator-bucket"
	Topic          Resource = "topic"
	Queue          Resource = "queue"
	Table          Resource = "table"
	Function       Resource = "function"
	// EventBus is the organization's central event bus, another account's:
	// granted on its one ARN.
	EventBus Resource = "event-bus"
	// Product is the account's own Security Hub product:
	// arn:<partition>:securityhub:<region>:<account>:product/<account>/default.
	Product Resource = "product"
	// Findings: BatchUpdateFindings names findings, not a resource IAM can
	// scope, so it is granted on "*".
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecurityhub.html
	Findings Resource = "findings"
)

// Spec describes one operation.
type Spec struct {
	Op   Operation
	Kind Kind
	// IAM is the IAM action that authorizes the call. It is not always the
	// API's name: GetBucketEncryption needs s3:GetEncryptionConfiguration.
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
	IAM      string
	Resource Resource
	// ReadBack is, for a write, the read that shows its effect.
	ReadBack Operation
	// Absent lists, for a read, the error codes S3 uses to say "this bucket
	// has no such configuration": a fact about the bucket, not a failure.
	Absent []string
}

// specs is the one list.
var specs = []Spec{
	{Op: GetPublicAccessBlock, Kind: Read, IAM: "s3:GetBucketPublicAccessBlock", Resource: Bucket, Absent: []string{"NoSuchPublicAccessBlockConfiguration"}},
	{Op: GetBucketPolicy, Kind: Read, IAM: "s3:GetBucketPolicy", Resource: Bucket, Absent: []string{"NoSuchBucketPolicy"}},
	{Op: GetBucketPolicyStatus, Kind: Read, IAM: "s3:GetBucketPolicyStatus", Resource: Bucket, Absent: []string{"NoSuchBucketPolicy"}},
	{Op: GetBucketAcl, Kind: Read, IAM: "s3:GetBucketAcl", Resource: Bucket},
	{Op: GetBucketEncryption, Kind: Read, IAM: "s3:GetEncryptionConfiguration", Resource: Bucket, Absent: []string{"ServerSideEncryptionConfigurationNotFoundError"}},
	{Op: GetBucketTagging, Kind: Read, IAM: "s3:GetBucketTagging", Resource: Bucket, Absent: []string{"NoSuchTagSet", "NoSuchTagSetError"}},
	{Op: GetBucketOwnershipControls, Kind: Read, IAM: "s3:GetBucketOwnershipControls", Resource: Bucket, Absent: []string{"OwnershipControlsNotFoundError"}},
	{Op: GetBucketVersioning, Kind: Read, IAM: "s3:GetBucketVersioning", Resource: Bucket},
	{Op: GetBucketLogging, Kind: Read, IAM: "s3:GetBucketLogging", Resource: Bucket},
	{Op: GetBucketWebsite, Kind: Read, IAM: "s3:GetBucketWebsite", Resource: Bucket, Absent: []string{"NoSuchWebsiteConfiguration"}},
	{Op: GetAccountPublicAccessBlock, Kind: Read, IAM: "s3:GetAccountPublicAccessBlock", Resource: Account, Absent: []string{"NoSuchPublicAccessBlockConfiguration"}},
	{Op: ListBuckets, Kind: Read, IAM: "s3:ListAllMyBuckets", Resource: Account},
	{Op: GetBucketLocation, Kind: Read, IAM: "s3:GetBucketLocation", Resource: Bucket},

	{Op: PutPublicAccessBlock, Kind: Write, IAM: "s3:PutBucketPublicAccessBlock", Resource: Bucket, ReadBack: GetPublicAccessBlock},
	{Op: PutBucketPolicy, Kind: Write, IAM: "s3:PutBucketPolicy", Resource: Bucket, ReadBack: GetBucketPolicy},
	{Op: DeleteBucketPolicy, Kind: Write, IAM: "s3:DeleteBucketPolicy", Resource: Bucket, ReadBack: GetBucketPolicy},
	{Op: PutBucketAcl, Kind: Write, IAM: "s3:PutBucketAcl", Resource: Bucket, ReadBack: GetBucketAcl},
	{Op: PutBucketEncryption, Kind: Write, IAM: "s3:PutEncryptionConfiguration", Resource: Bucket, ReadBack: GetBucketEncryption},
	{Op: PutBucketOwnershipControls, Kind: Write, IAM: "s3:PutBucketOwnershipControls", Resource: Bucket, ReadBack: GetBucketOwnershipControls},
	{Op: PutBucketVersioning, Kind: Write, IAM: "s3:PutBucketVersioning", Resource: Bucket, ReadBack: GetBucketVersioning},
	{Op: PutBucketLogging, Kind: Write, IAM: "s3:PutBucketLogging", Resource: Bucket, ReadBack: GetBucketLogging},
	{Op: PutAccountPublicAccessBlock, Kind: Write, IAM: "s3:PutAccountPublicAccessBlock", Resource: Account, ReadBack: GetAccountPublicAccessBlock},

	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
	{Op: ListAccessPoints, Kind: Read, IAM: "s3:ListAccessPoints", Resource: Account},
	{Op: GetAccessPoint, Kind: Read, IAM: "s3:GetAccessPoint", Resource: Account},
	{Op: GetAccessPointPolicy, Kind: Read, IAM: "s3:GetAccessPointPolicy", Resource: AccessPointARN, Absent: []string{"NoSuchAccessPointPolicy"}},
	{Op: GetAccessPointPolicyStatus, Kind: Read, IAM: "s3:GetAccessPointPolicyStatus", Resource: AccessPointARN, Absent: []string{"NoSuchAccessPointPolicy"}},
	{Op: PutAccessPointPolicy, Kind: Write, IAM: "s3:PutAccessPointPolicy", Resource: AccessPointARN, ReadBack: GetAccessPointPolicy},
	{Op: DeleteAccessPointPolicy, Kind: Write, IAM: "s3:DeleteAccessPointPolicy", Resource: AccessPointARN, ReadBack: GetAccessPointPolicy},

	{Op: ListAccessPointsForObjectLambda, Kind: Read, IAM: "s3:ListAccessPointsForObjectLambda", Resource: Account},
	{Op: GetAccessPointConfigurationForObjectLambda, Kind: Read, IAM: "s3:GetAccessPointConfigurationForObjectLambda", Resource: ObjectLambdaARN},
	{Op: GetAccessPointPolicyForObjectLambda, Kind: Read, IAM: "s3:GetAccessPointPolicyForObjectLambda", Resource: ObjectLambdaARN, Absent: []string{"NoSuchAccessPointPolicy"}},
	{Op: GetAccessPointPolicyStatusForObjectLambda, Kind: Read, IAM: "s3:GetAccessPointPolicyStatusForObjectLambda", Resource: ObjectLambdaARN, Absent: []string{"NoSuchAccessPointPolicy"}},
	{Op: PutAccessPointPolicyForObjectLambda, Kind: Write, IAM: "s3:PutAccessPointPolicyForObjectLambda", Resource: ObjectLambdaARN, ReadBack: GetAccessPointPolicyForObjectLambda},
	{Op: DeleteAccessPointPolicyForObjectLambda, Kind: Write, IAM: "s3:DeleteAccessPointPolicyForObjectLambda", Resource: ObjectLambdaARN, ReadBack: GetAccessPointPolicyForObjectLambda},

	{Op: ListMultiRegionAccessPoints, Kind: Read, IAM: "s3:ListMultiRegionAccessPoints", Resource: Account},
	{Op: GetMultiRegionAccessPoint, Kind: Read, IAM: "s3:GetMultiRegionAccessPoint", Resource: MultiRegionARN},
	{Op: GetMultiRegionAccessPointPolicy, Kind: Read, IAM: "s3:GetMultiRegionAccessPointPolicy", Resource: MultiRegionARN},
	{Op: GetMultiRegionAccessPointPolicyStatus, Kind: Read, IAM: "s3:GetMultiRegionAccessPointPolicyStatus", Resource: MultiRegionARN},
	{Op: PutMultiRegionAccessPointPolicy, Kind: Write, IAM: "s3:PutMultiRegionAccessPointPolicy", Resource: MultiRegionARN, ReadBack: GetMultiRegionAccessPointPolicy},

	// The check supports no resource-level permissions: granted on "*".
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiamaccessanalyzer.html
	{Op: CheckNoPublicAccess, Kind: Read, IAM: "access-analyzer:CheckNoPublicAccess", Resource: Account},

	{Op: PutBucketTagging, Kind: Write, IAM: "s3:PutBucketTagging", Resource: OperatorBucket},

	{Op: Publish, Kind: Write, IAM: "sns:Publish", Resource: Topic},
	{Op: SendMessage, Kind: Write, IAM: "sqs:SendMessage", Resource: Queue},
	{Op: GetItem, Kind: Read, IAM: "dynamodb:GetItem", Resource: Table},
	{Op: PutItem, Kind: Write, IAM: "dynamodb:PutItem", Resource: Table},
	{Op: UpdateItem, Kind: Write, IAM: "dynamodb:UpdateItem", Resource: Table},
	{Op: DeleteItem, Kind: Write, IAM: "dynamodb:DeleteItem", Resource: Table},
	{Op: Scan, Kind: Read, IAM: "dynamodb:Scan", Resource: Table},
	{Op: Invoke, Kind: Write, IAM: "lambda:InvokeFunction", Resource: Function},
	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-identity-based.html
	{Op: PutEvents, Kind: Write, IAM: "events:PutEvents", Resource: EventBus},
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html
	{Op: DescribeTrails, Kind: Read, IAM: "cloudtrail:DescribeTrails", Resource: Trails},
	{Op: GetTrailStatus, Kind: Read, IAM: "cloudtrail:GetTrailStatus", Resource: Trails},
	{Op: GetEventSelectors, Kind: Read, IAM: "cloudtrail:GetEventSelectors", Resource: Trails},
	{Op: BatchImportFindings, Kind: Write, IAM: "securityhub:BatchImportFindings", Resource: Product},
	{Op: BatchUpdateFindings, Kind: Write, IAM: "securityhub:BatchUpdateFindings", Resource: Findings},
}

// All returns every operation's spec, in the list's order.
func All() []Spec { return slices.Clone(specs) }

// Lookup returns an operation's spec.
func Lookup(o Operation) (Spec, bool) {
	for _, s := range specs {
		if s.Op == o {
			return s, true
		}
	}
	return Spec{}, false
}

// Of returns an operation's spec; it fails loudly (an error, not a panic)
// for a name that is not in the list.
func Of(o Operation) (Spec, error) {
	s, ok := Lookup(o)
	if !ok {
		return Spec{}, fmt.Errorf("operation %q is not in bucketguard's operation list", o)
	}
	return s, nil
}

// IsS3 reports whether o is an S3 or S3 Control call: the calls the
// clean-bucket budget counts.
func (o Operation) IsS3() bool {
	s, ok := Lookup(o)
	return ok && s.Resource.IsS3()
}

// IsS3 reports whether a resource is S3's (a bucket, the account, an access
// point), as opposed to the stack's own topic, queue, table or function.
func (r Resource) IsS3() bool {
	switch r {
	case Bucket, Account, AccessPointARN, ObjectLambdaARN, MultiRegionARN:
		return true
	}
	return false
}

// IsRead reports whether o reads. An unknown name is not a read.
func (o Operation) IsRead() bool {
	s, ok := Lookup(o)
	return ok && s.Kind == Read
}

// IsAbsent reports whether code is one of the errors with which o says
// "not configured".
func (o Operation) IsAbsent(code string) bool {
	s, _ := Lookup(o)
	return code != "" && slices.Contains(s.Absent, code)
}

// Actions returns the sorted, distinct IAM actions of the operations on one
// kind of resource.
func Actions(ops []Operation, on Resource) []string {
	var out []string
	for _, o := range ops {
		s, ok := Lookup(o)
		if ok && s.Resource == on && !slices.Contains(out, s.IAM) {
			out = append(out, s.IAM)
		}
	}
	slices.Sort(out)
	return out
}
