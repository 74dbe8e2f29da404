package fake

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// S3 is the fake S3 client of a Fake.
type S3 struct{ f *Fake }

// S3 returns the account's S3 client.
func (f *Fake) S3() *S3 { return &S3{f} }

var _ remediations.S3Client = (*S3)(nil)

// do runs fn on the bucket under the lock, after recording the call.
func (s *S3) do(o op.Operation, name *string, fn func(b *Bucket) error) error {
	bucket := aws.ToString(name)
	release, err := s.f.enter(o, bucket)
	if err != nil {
		return err
	}
	defer release()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	b, err := s.f.bucket(bucket)
	if err != nil {
		return err
	}
	return fn(b)
}

func (s *S3) GetPublicAccessBlock(_ context.Context, in *s3.GetPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	out := &s3.GetPublicAccessBlockOutput{}
	return out, s.do(op.GetPublicAccessBlock, in.Bucket, func(b *Bucket) error {
		if b.BPA == nil {
			return APIError("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
		}
		out.PublicAccessBlockConfiguration = &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(b.BPA.BlockPublicAcls), IgnorePublicAcls: aws.Bool(b.BPA.IgnorePublicAcls),
			BlockPublicPolicy: aws.Bool(b.BPA.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(b.BPA.RestrictPublicBuckets)}
		return nil
	})
}

func (s *S3) PutPublicAccessBlock(_ context.Context, in *s3.PutPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	return &s3.PutPublicAccessBlockOutput{}, s.do(op.PutPublicAccessBlock, in.Bucket, func(b *Bucket) error {
		c := in.PublicAccessBlockConfiguration
		b.BPA = &posture.BPA{BlockPublicAcls: aws.ToBool(c.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(c.IgnorePublicAcls),
			BlockPublicPolicy: aws.ToBool(c.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets)}
		return nil
	})
}

func (s *S3) GetBucketPolicy(_ context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	out := &s3.GetBucketPolicyOutput{}
	return out, s.do(op.GetBucketPolicy, in.Bucket, func(b *Bucket) error {
		if b.Policy == "" {
			return APIError("NoSuchBucketPolicy", "The bucket policy does not exist")
		}
		out.Policy = aws.String(b.Policy)
		return nil
	})
}

func (s *S3) PutBucketPolicy(_ context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	return &s3.PutBucketPolicyOutput{}, s.do(op.PutBucketPolicy, in.Bucket, func(b *Bucket) error {
		doc := aws.ToString(in.Policy)
		if len(doc) > policy.MaxBytes {
			return APIError("PolicyTooLarge", "Policy exceeds the maximum allowed document size.")
		}
		if _, err := policy.Parse([]byte(doc)); err != nil {
			return APIError("MalformedPolicy", err.Error())
		}
		if s.f.effective(b).BlockPublicPolicy && policyPublic(doc) {
			return APIError("AccessDenied", "Access Denied: public policies are blocked by the BlockPublicPolicy block public access setting.")
		}
		b.Policy = doc
		return nil
	})
}

func (s *S3) DeleteBucketPolicy(_ context.Context, in *s3.DeleteBucketPolicyInput, _ ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error) {
	return &s3.DeleteBucketPolicyOutput{}, s.do(op.DeleteBucketPolicy, in.Bucket, func(b *Bucket) error {
		b.Policy = ""
		return nil
	})
}

func (s *S3) GetBucketPolicyStatus(_ context.Context, in *s3.GetBucketPolicyStatusInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyStatusOutput, error) {
	out := &s3.GetBucketPolicyStatusOutput{}
	return out, s.do(op.GetBucketPolicyStatus, in.Bucket, func(b *Bucket) error {
		if s.f.PolicyStatusUnsupported {
			return APIError("NotImplemented", "GetBucketPolicyStatus is not implemented")
		}
		if b.Policy == "" {
			return APIError("NoSuchBucketPolicy", "The bucket policy does not exist")
		}
		public := policyPublic(b.Policy)
		if b.PolicyStatus != nil {
			public = *b.PolicyStatus
		}
		out.PolicyStatus = &types.PolicyStatus{IsPublic: aws.Bool(public)}
		return nil
	})
}

func (s *S3) GetBucketAcl(_ context.Context, in *s3.GetBucketAclInput, _ ...func(*s3.Options)) (*s3.GetBucketAclOutput, error) {
	out := &s3.GetBucketAclOutput{}
	return out, s.do(op.GetBucketAcl, in.Bucket, func(b *Bucket) error {
		a := b.ACL
		switch {
		case b.Ownership == posture.BucketOwnerEnforced:
			a = PrivateACL() // ACLs are off: only the owner's full control shows
		case s.f.effective(b).IgnorePublicAcls:
			a = acl.WithoutPublic(a) // GET returns the ACL S3 enforces
		}
		out.Owner = &types.Owner{ID: aws.String(a.Owner.ID), DisplayName: aws.String(a.Owner.DisplayName)}
		for _, g := range a.Grants {
			gr := &types.Grantee{Type: types.Type(g.Grantee.Type)}
			if g.Grantee.ID != "" {
				gr.ID = aws.String(g.Grantee.ID)
			}
			if g.Grantee.URI != "" {
				gr.URI = aws.String(g.Grantee.URI)
			}
			if g.Grantee.EmailAddress != "" {
				gr.EmailAddress = aws.String(g.Grantee.EmailAddress)
			}
			out.Grants = append(out.Grants, types.Grant{Grantee: gr, Permission: types.Permission(g.Permission)})
		}
		return nil
	})
}

func (s *S3) PutBucketAcl(_ context.Context, in *s3.PutBucketAclInput, _ ...func(*s3.Options)) (*s3.PutBucketAclOutput, error) {
	return &s3.PutBucketAclOutput{}, s.do(op.PutBucketAcl, in.Bucket, func(b *Bucket) error {
		a := acl.ACL{Grants: []acl.Grant{}}
		if p := in.AccessControlPolicy; p != nil {
			if p.Owner != nil {
				a.Owner = acl.Owner{ID: aws.ToString(p.Owner.ID), DisplayName: aws.ToString(p.Owner.DisplayName)}
			}
			for _, g := range p.Grants {
				a.Grants = append(a.Grants, acl.Grant{Permission: string(g.Permission), Grantee: acl.Grantee{
					Type: string(g.Grantee.Type), ID: aws.ToString(g.Grantee.ID), URI: aws.ToString(g.Grantee.URI),
					EmailAddress: aws.ToString(g.Grantee.EmailAddress), DisplayName: aws.ToString(g.Grantee.DisplayName)}})
			}
		}
		if b.Ownership == posture.BucketOwnerEnforced && !acl.OnlyOwner(a) {
			return APIError("AccessControlListNotSupported", "The bucket does not allow ACLs")
		}
		if s.f.effective(b).BlockPublicAcls && acl.Judge(a).Public {
			return APIError("AccessDenied", "Access Denied: public ACLs are blocked by the BlockPublicAcls block public access setting.")
		}
		b.ACL = a
		return nil
	})
}

func (s *S3) GetBucketEncryption(_ context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	out := &s3.GetBucketEncryptionOutput{}
	return out, s.do(op.GetBucketEncryption, in.Bucket, func(b *Bucket) error {
		if b.Encryption == nil {
			return APIError("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found")
		}
		e := b.Encryption
		r := types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryption(e.Algorithm)},
			BucketKeyEnabled: aws.Bool(e.BucketKey)}
		if e.KMSKeyID != "" {
			r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(e.KMSKeyID)
		}
		if len(e.BlockedTypes) > 0 {
			r.BlockedEncryptionTypes = &types.BlockedEncryptionTypes{}
			for _, t := range e.BlockedTypes {
				r.BlockedEncryptionTypes.EncryptionType = append(r.BlockedEncryptionTypes.EncryptionType, types.EncryptionType(t))
			}
		}
		out.ServerSideEncryptionConfiguration = &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{r}}
		return nil
	})
}

func (s *S3) PutBucketEncryption(_ context.Context, in *s3.PutBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	return &s3.PutBucketEncryptionOutput{}, s.do(op.PutBucketEncryption, in.Bucket, func(b *Bucket) error {
		r := in.ServerSideEncryptionConfiguration.Rules[0]
		e := &posture.Encryption{Algorithm: string(r.ApplyServerSideEncryptionByDefault.SSEAlgorithm),
			KMSKeyID: aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID), BucketKey: aws.ToBool(r.BucketKeyEnabled)}
		if r.BlockedEncryptionTypes != nil {
			for _, t := range r.BlockedEncryptionTypes.EncryptionType {
				e.BlockedTypes = append(e.BlockedTypes, string(t))
			}
		}
		b.Encryption = e
		return nil
	})
}

func (s *S3) GetBucketTagging(_ context.Context, in *s3.GetBucketTaggingInput, _ ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error) {
	out := &s3.GetBucketTaggingOutput{}
	return out, s.do(op.GetBucketTagging, in.Bucket, func(b *Bucket) error {
		if len(b.Tags) == 0 {
			return APIError("NoSuchTagSet", "The TagSet does not exist")
		}
		keys := make([]string, 0, len(b.Tags))
		for k := range b.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out.TagSet = append(out.TagSet, types.Tag{Key: aws.String(k), Value: aws.String(b.Tags[k])})
		}
		return nil
	})
}

// PutBucketTagging replaces the bucket's tags.
func (s *S3) PutBucketTagging(_ context.Context, in *s3.PutBucketTaggingInput, _ ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error) {
	return &s3.PutBucketTaggingOutput{}, s.do(op.PutBucketTagging, in.Bucket, func(b *Bucket) error {
		b.Tags = map[string]string{}
		if in.Tagging != nil {
			for _, t := range in.Tagging.TagSet {
				b.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		return nil
	})
}

func (s *S3) GetBucketOwnershipControls(_ context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	out := &s3.GetBucketOwnershipControlsOutput{}
	return out, s.do(op.GetBucketOwnershipControls, in.Bucket, func(b *Bucket) error {
		if b.Ownership == "" {
			return APIError("OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
		}
		out.OwnershipControls = &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnership(b.Ownership)}}}
		return nil
	})
}

func (s *S3) PutBucketOwnershipControls(_ context.Context, in *s3.PutBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error) {
	return &s3.PutBucketOwnershipControlsOutput{}, s.do(op.PutBucketOwnershipControls, in.Bucket, func(b *Bucket) error {
		want := string(in.OwnershipControls.Rules[0].ObjectOwnership)
		if want == posture.BucketOwnerEnforced && !acl.OnlyOwner(b.ACL) {
			return APIError("InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
		}
		b.Ownership = want
		return nil
	})
}

func (s *S3) GetBucketVersioning(_ context.Context, in *s3.GetBucketVersioningInput, _ ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	out := &s3.GetBucketVersioningOutput{}
	return out, s.do(op.GetBucketVersioning, in.Bucket, func(b *Bucket) error {
		out.Status = types.BucketVersioningStatus(b.Versioning)
		return nil
	})
}

func (s *S3) PutBucketVersioning(_ context.Context, in *s3.PutBucketVersioningInput, _ ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error) {
	return &s3.PutBucketVersioningOutput{}, s.do(op.PutBucketVersioning, in.Bucket, func(b *Bucket) error {
		b.Versioning = string(in.VersioningConfiguration.Status)
		return nil
	})
}

func (s *S3) GetBucketLogging(_ context.Context, in *s3.GetBucketLoggingInput, _ ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error) {
	out := &s3.GetBucketLoggingOutput{}
	return out, s.do(op.GetBucketLogging, in.Bucket, func(b *Bucket) error {
		if b.Logging != nil {
			out.LoggingEnabled = &types.LoggingEnabled{TargetBucket: aws.String(b.Logging.TargetBucket), TargetPrefix: aws.String(b.Logging.TargetPrefix)}
		}
		return nil
	})
}

func (s *S3) GetBucketWebsite(_ context.Context, in *s3.GetBucketWebsiteInput, _ ...func(*s3.Options)) (*s3.GetBucketWebsiteOutput, error) {
	out := &s3.GetBucketWebsiteOutput{}
	return out, s.do(op.GetBucketWebsite, in.Bucket, func(b *Bucket) error {
		if b.Website == nil {
			return APIError("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration")
		}
		if b.Website.IndexDocument != "" {
			out.IndexDocument = &types.IndexDocument{Suffix: aws.String(b.Website.IndexDocument)}
		}
		if b.Website.RedirectAllTo != "" {
			out.RedirectAllRequestsTo = &types.RedirectAllRequestsTo{HostName: aws.String(b.Website.RedirectAllTo)}
		}
		return nil
	})
}

func (s *S3) PutBucketLogging(_ context.Context, in *s3.PutBucketLoggingInput, _ ...func(*s3.Options)) (*s3.PutBucketLoggingOutput, error) {
	return &s3.PutBucketLoggingOutput{}, s.do(op.PutBucketLogging, in.Bucket, func(b *Bucket) error {
		if le := in.BucketLoggingStatus.LoggingEnabled; le != nil {
			b.Logging = &posture.Logging{TargetBucket: aws.ToString(le.TargetBucket), TargetPrefix: aws.ToString(le.TargetPrefix)}
		} else {
			b.Logging = nil
		}
		return nil
	})
}

// ListBuckets pages through the buckets in name order, as S3 does: with
// MaxBuckets the answer carries each bucket's region and, when more remain, a
// ContinuationToken (here, the last name of the page); BucketRegion and
// Prefix filter.
func (s *S3) ListBuckets(_ context.Context, in *s3.ListBucketsInput, _ ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	release, err := s.f.enter(op.ListBuckets, "")
	if err != nil {
		return nil, err
	}
	defer release()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	names := make([]string, 0, len(s.f.buckets))
	for n, b := range s.f.buckets {
		if (in.BucketRegion == nil || *in.BucketRegion == b.Region) && strings.HasPrefix(n, aws.ToString(in.Prefix)) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	start := 0
	if in.ContinuationToken != nil {
		start, _ = slices.BinarySearch(names, *in.ContinuationToken)
		if start < len(names) && names[start] == *in.ContinuationToken {
			start++
		}
	}
	limit := len(names)
	if in.MaxBuckets != nil {
		limit = min(len(names), start+int(*in.MaxBuckets))
	}
	out := &s3.ListBucketsOutput{}
	for _, n := range names[start:limit] {
		bk := types.Bucket{Name: aws.String(n)}
		if in.MaxBuckets != nil {
			bk.BucketRegion = aws.String(s.f.buckets[n].Region)
		}
		out.Buckets = append(out.Buckets, bk)
	}
	if limit < len(names) {
		out.ContinuationToken = aws.String(names[limit-1])
	}
	return out, nil
}
