package read

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// The SDK's shapes turned into bucketguard's facts.

func bpaFromS3(c *types.PublicAccessBlockConfiguration) posture.BPA {
	return posture.BPA{BlockPublicAcls: aws.ToBool(c.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(c.IgnorePublicAcls),
		BlockPublicPolicy: aws.ToBool(c.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets)}
}

func bpaFromControl(c *ctltypes.PublicAccessBlockConfiguration) posture.BPA {
	return posture.BPA{BlockPublicAcls: aws.ToBool(c.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(c.IgnorePublicAcls),
		BlockPublicPolicy: aws.ToBool(c.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets)}
}

func aclFromS3(owner *types.Owner, grants []types.Grant) acl.ACL {
	a := acl.ACL{Grants: []acl.Grant{}}
	if owner != nil {
		a.Owner = acl.Owner{ID: aws.ToString(owner.ID), DisplayName: aws.ToString(owner.DisplayName)}
	}
	for _, g := range grants {
		ag := acl.Grant{Permission: string(g.Permission)}
		if g.Grantee != nil {
			ag.Grantee = acl.Grantee{
				Type:         string(g.Grantee.Type),
				ID:           aws.ToString(g.Grantee.ID),
				URI:          aws.ToString(g.Grantee.URI),
				EmailAddress: aws.ToString(g.Grantee.EmailAddress),
				DisplayName:  aws.ToString(g.Grantee.DisplayName),
			}
		}
		a.Grants = append(a.Grants, ag)
	}
	return a
}

// encryptionFromS3 reads the first default-encryption rule, and the blocked
// encryption types of every rule.
func encryptionFromS3(rules []types.ServerSideEncryptionRule) (posture.Encryption, bool) {
	var e posture.Encryption
	found := false
	for _, r := range rules {
		if d := r.ApplyServerSideEncryptionByDefault; d != nil && !found {
			e.Algorithm = string(d.SSEAlgorithm)
			e.KMSKeyID = aws.ToString(d.KMSMasterKeyID)
			e.BucketKey = aws.ToBool(r.BucketKeyEnabled)
			found = true
		}
		if r.BlockedEncryptionTypes != nil {
			for _, t := range r.BlockedEncryptionTypes.EncryptionType {
				e.BlockedTypes = append(e.BlockedTypes, string(t))
			}
		}
	}
	return e, found
}

func tagsFromS3(set []types.Tag) map[string]string {
	tags := make(map[string]string, len(set))
	for _, t := range set {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags
}
