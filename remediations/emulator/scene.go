package emulator

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
)

// Scene sets up bucket states on an emulator, as incidents leave them: the
// integration tests and the demo build their worlds with it.
type Scene struct {
	S3      *s3.Client
	Control *s3control.Client
	Region  string
	Account string
}

// CreateBucket makes a bucket in the scene's region.
func (s Scene) CreateBucket(ctx context.Context, b string) error {
	_, err := s.S3.CreateBucket(ctx, CreateBucketInput(b, s.Region))
	return wrap("create bucket", b, err)
}

// CreateBucketInput is the request that creates a bucket in a region. S3
// refuses a LocationConstraint of us-east-1, its default region, with
// InvalidLocationConstraint: a bucket there is created without one.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
func CreateBucketInput(b, region string) *s3.CreateBucketInput {
	in := &s3.CreateBucketInput{Bucket: aws.String(b)}
	if region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	return in
}

// Baseline makes a bucket clean under the default configuration: Block
// Public Access all on, SSE-S3, a TLS-only policy, and an owner tag.
func (s Scene) Baseline(ctx context.Context, b, owner string) error {
	var tags map[string]string
	if owner != "" {
		tags = map[string]string{"owner": owner}
	}
	on := posture.AllOn
	return first(s.CreateBucket(ctx, b), s.BPA(ctx, b, &on), s.Encryption(ctx, b, "AES256", ""),
		s.Policy(ctx, b, PolicyDoc(TLSStatement(b))), s.Tags(ctx, b, tags))
}

// Policy puts a bucket policy.
func (s Scene) Policy(ctx context.Context, b, doc string) error {
	_, err := s.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(doc)})
	return wrap("put policy", b, err)
}

// BPA sets a bucket's Block Public Access; nil deletes it.
func (s Scene) BPA(ctx context.Context, b string, v *posture.BPA) error {
	if v == nil {
		_, err := s.S3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(b)})
		return wrap("delete public access block", b, err)
	}
	_, err := s.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b), PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(v.BlockPublicAcls), IgnorePublicAcls: aws.Bool(v.IgnorePublicAcls),
		BlockPublicPolicy: aws.Bool(v.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(v.RestrictPublicBuckets)}})
	return wrap("put public access block", b, err)
}

// AccountBPA sets the account's Block Public Access; nil deletes it.
func (s Scene) AccountBPA(ctx context.Context, v *posture.BPA) error {
	if v == nil {
		_, err := s.Control.DeletePublicAccessBlock(ctx, &s3control.DeletePublicAccessBlockInput{AccountId: aws.String(s.Account)})
		return wrap("delete account public access block", s.Account, err)
	}
	_, err := s.Control.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: aws.String(s.Account), PublicAccessBlockConfiguration: &ctltypes.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(v.BlockPublicAcls), IgnorePublicAcls: aws.Bool(v.IgnorePublicAcls),
		BlockPublicPolicy: aws.Bool(v.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(v.RestrictPublicBuckets)}})
	return wrap("put account public access block", s.Account, err)
}

// Encryption sets default encryption; an empty algorithm deletes it.
func (s Scene) Encryption(ctx context.Context, b, algo, key string) error {
	if algo == "" {
		_, err := s.S3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(b)})
		return wrap("delete encryption", b, err)
	}
	rule := types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryption(algo)}}
	if key != "" {
		rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(key)
	}
	_, err := s.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(b),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{rule}}})
	return wrap("put encryption", b, err)
}

// Tags replaces a bucket's tags; none deletes them.
func (s Scene) Tags(ctx context.Context, b string, tags map[string]string) error {
	if len(tags) == 0 {
		_, err := s.S3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(b)})
		return wrap("delete tags", b, err)
	}
	var set []types.Tag
	for k, v := range tags {
		set = append(set, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := s.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(b), Tagging: &types.Tagging{TagSet: set}})
	return wrap("put tags", b, err)
}

// PublicACL adds a public-read grant and a LogDelivery write grant.
func (s Scene) PublicACL(ctx context.Context, b string) error {
	acl, err := s.S3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b)})
	if err != nil {
		return wrap("get acl", b, err)
	}
	grants := append(acl.Grants,
		types.Grant{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/global/AllUsers")}, Permission: types.PermissionRead},
		types.Grant{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/s3/LogDelivery")}, Permission: types.PermissionWrite})
	_, err = s.S3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), AccessControlPolicy: &types.AccessControlPolicy{Owner: acl.Owner, Grants: grants}})
	return wrap("put acl", b, err)
}

// AccessPoint creates an access point of a bucket, with its (fixed) Block
// Public Access, and puts its policy when doc is not empty.
func (s Scene) AccessPoint(ctx context.Context, name, b string, bpa posture.BPA, doc string) error {
	_, err := s.Control.CreateAccessPoint(ctx, &s3control.CreateAccessPointInput{AccountId: aws.String(s.Account), Name: aws.String(name), Bucket: aws.String(b),
		PublicAccessBlockConfiguration: &ctltypes.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(bpa.BlockPublicAcls), IgnorePublicAcls: aws.Bool(bpa.IgnorePublicAcls),
			BlockPublicPolicy: aws.Bool(bpa.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(bpa.RestrictPublicBuckets)}})
	if err != nil || doc == "" {
		return wrap("create access point", name, err)
	}
	_, err = s.Control.PutAccessPointPolicy(ctx, &s3control.PutAccessPointPolicyInput{AccountId: aws.String(s.Account), Name: aws.String(name), Policy: aws.String(doc)})
	return wrap("put access point policy", name, err)
}

// AccessPointPolicy reads an access point's policy ("" when none).
func (s Scene) AccessPointPolicy(ctx context.Context, name string) (string, error) {
	out, err := s.Control.GetAccessPointPolicy(ctx, &s3control.GetAccessPointPolicyInput{AccountId: aws.String(s.Account), Name: aws.String(name)})
	if err != nil {
		return "", wrap("get access point policy", name, err)
	}
	return aws.ToString(out.Policy), nil
}

// Ownership sets Object Ownership.
func (s Scene) Ownership(ctx context.Context, b, value string) error {
	_, err := s.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(b),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnership(value)}}}})
	return wrap("put ownership controls", b, err)
}

// Versioning sets the versioning status.
func (s Scene) Versioning(ctx context.Context, b, status string) error {
	_, err := s.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatus(status)}})
	return wrap("put versioning", b, err)
}

// Website turns on static website hosting with an index document.
func (s Scene) Website(ctx context.Context, b, index string) error {
	_, err := s.S3.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String(b),
		WebsiteConfiguration: &types.WebsiteConfiguration{IndexDocument: &types.IndexDocument{Suffix: aws.String(index)}}})
	return wrap("put website", b, err)
}

// Posture reads a bucket's posture (the account's when b is empty).
func (s Scene) Posture(ctx context.Context, b string) (posture.Posture, error) {
	return read.Posture(ctx, read.Clients{S3: s.S3, Control: s.Control}, posture.Target{Account: s.Account, Region: s.Region, Bucket: b},
		read.Needs{Bucket: b != "", AccountBPA: true, Versioning: true, Logging: true})
}

func wrap(op, what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, what, err)
	}
	return nil
}

func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Statements the scenes use.

// PolicyDoc wraps statements in a policy.
func PolicyDoc(stmts ...string) string {
	out := `{"Version":"2012-10-17","Statement":[`
	for i, s := range stmts {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out + "]}"
}

// TLSStatement denies plain-HTTP requests (with a Sid of its own).
func TLSStatement(b string) string {
	return `{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
}

// PartnerStatement grants a partner account read access: legitimate.
func PartnerStatement(b string) string {
	return `{"Sid":"PartnerRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"]}`
}

// PublicReadStatement opens object reads to everyone.
func PublicReadStatement(b string) string {
	return `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}`
}

// PublicWriteStatement opens object writes and deletes to everyone.
func PublicWriteStatement(b string) string {
	return `{"Sid":"PublicWrite","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::` + b + `/*"}`
}
