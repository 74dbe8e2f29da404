package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/policy"
)

// Where AWS's letter is evaded, bucketguard is stricter, and the
// reason says so.
func TestStricterThanAWS(t *testing.T) {
	var all8 []string
	for i := range 256 {
		all8 = append(all8, fmt.Sprintf(`"%d.0.0.0/8"`, i))
	}
	tests := []struct {
		name     string
		cond     string
		public   bool
		stricter bool
	}{
		{"all 256 /8 blocks", `{"IpAddress":{"aws:SourceIp":[` + strings.Join(all8, ",") + `]}}`, true, true},
		{"two public /8s", `{"IpAddress":{"aws:SourceIp":["54.0.0.0/8","52.0.0.0/8"]}}`, true, true},
		{"one public /8 and a nested /16", `{"IpAddress":{"aws:SourceIp":["54.0.0.0/8","54.1.0.0/16"]}}`, false, false},
		{"one public /8 and the private ranges", `{"IpAddress":{"aws:SourceIp":["54.0.0.0/8","10.0.0.0/8","172.16.0.0/12","192.168.0.0/16"]}}`, false, false},
		{"many /24s", `{"IpAddress":{"aws:SourceIp":["54.240.143.0/24","54.240.144.0/24"]}}`, false, false},
		{"IPv6 two /32s", `{"IpAddress":{"aws:SourceIp":["2001:db8::/32","2001:db9::/32"]}}`, true, true},
		{"IPv6 one /32", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, false, false},
		{"aws:userid anonymous", `{"StringEquals":{"aws:userid":"anonymous"}}`, true, true},
		{"aws:userid Anonymous, any case", `{"StringEqualsIgnoreCase":{"aws:userid":["AIDAEXAMPLE","ANONYMOUS"]}}`, true, true},
		{"aws:userid a user id", `{"StringEquals":{"aws:userid":"AIDAEXAMPLEUSERID1"}}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stmt(t, `{"Effect":"Allow","Principal":"*",`+getObj+`,"Condition":`+tt.cond+`}`)
			v := s.Judge()
			if v.Public != tt.public {
				t.Fatalf("public = %v (%s)", v.Public, v.Reason)
			}
			if got := strings.Contains(v.Reason, "stricter than AWS"); got != tt.stricter {
				t.Errorf("reason %q: says stricter = %v, want %v", v.Reason, got, tt.stricter)
			}
		})
	}
}

// An identity provider of an account is a fixed principal; a web
// identity provider's host admits everyone it signs in (AWS's own example).
func TestFederatedPrincipals(t *testing.T) {
	for _, tc := range []struct {
		value  string
		public bool
	}{
		{"arn:aws:iam::111122223333:saml-provider/Okta", false},
		{"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC", false},
		{"arn:aws-us-gov:iam::111122223333:saml-provider/AzureAD", false},
		{"arn:aws:iam::444455556666:saml-provider/Partner", false},
		{"cognito-identity.amazonaws.com", true},
		{"accounts.google.com", true},
		{"graph.facebook.com", true},
		{"www.amazon.com", true},
		{"arn:aws:iam::*:saml-provider/Okta", true},
		{"arn:aws:iam::111122223333:saml-provider/*", true},
		{"arn:aws:iam::111122223333:role/NotAProvider", true},
	} {
		v := stmt(t, `{"Effect":"Allow","Principal":{"Federated":"`+tc.value+`"},`+getObj+`}`).Judge()
		if v.Public != tc.public {
			t.Errorf("Federated %q: public = %v, want %v (%s)", tc.value, v.Public, tc.public, v.Reason)
		}
	}
}

// An access point policy follows the bucket rules but one: granting a set
// of access points with s3:DataAccessPointArn is public there.
func TestAccessPointRules(t *testing.T) {
	const s = `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:eu-west-1:111122223333:accesspoint/*"}}}`
	doc := func() *policy.Document {
		d, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + s + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if policy.Judge(doc()).Public {
		t.Error("in a bucket policy, a fixed account with any access point name is not public")
	}
	if !policy.Judge(doc().ForAccessPoint()).Public {
		t.Error("in an access point policy, s3:DataAccessPointArn makes it public")
	}
	acct := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}}]}`
	d, _ := policy.Parse([]byte(acct))
	if policy.Judge(d).Public {
		t.Error("in a bucket policy, s3:DataAccessPointAccount pinned to an account is not public")
	}
	d, _ = policy.Parse([]byte(acct))
	if !policy.Judge(d.ForAccessPoint()).Public {
		t.Error("in an access point policy, s3:DataAccessPointAccount names the set of the account's access points, which every request through it is in: public")
	}
}

// Deny statements that can refuse bucketguard's own calls.
func TestDeniesTo(t *testing.T) {
	c := policy.Caller{RoleARNs: []string{"arn:aws:iam::111122223333:role/BucketGuard-eu-west-1-RemediateRoleABC"}, Account: "111122223333",
		CanonicalID: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", Region: "eu-west-1", Resource: "arn:aws:s3:::acme-data", Actions: []string{"s3:GetBucketTagging", "s3:PutBucketPolicy", "s3:GetBucketPolicy"}}
	const res = `"Resource":["arn:aws:s3:::acme-data","arn:aws:s3:::acme-data/*"]`
	for _, tc := range []struct {
		name string
		stmt string
		want []string
	}{
		{"tampering: deny our roles the tag read", `{"Effect":"Deny","Principal":"*","Action":"s3:GetBucketTagging",` + res + `,"Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BucketGuard-*"}}}`, []string{"s3:GetBucketTagging"}},
		{"tampering: deny our roles the puts", `{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:Put*",` + res + `}`, []string{"s3:PutBucketPolicy"}},
		{"locked down: deny all but an admin role", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + res + `,"Condition":{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Admin"}}}`, []string{"s3:GetBucketTagging", "s3:PutBucketPolicy", "s3:GetBucketPolicy"}},
		{"locked down, bucketguard exempted", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + res + `,"Condition":{"StringNotLike":{"aws:PrincipalArn":["arn:aws:iam::111122223333:role/Admin","arn:aws:iam::111122223333:role/BucketGuard-*"]}}}`, nil},
		{"TLS-only deny never applies", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + res + `,"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, nil},
		{"VPC-only deny applies (no VPC)", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + res + `,"Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`, []string{"s3:GetBucketTagging", "s3:PutBucketPolicy", "s3:GetBucketPolicy"}},
		{"objects only", `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::acme-data/*"}`, nil},
		{"another account's principal", `{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*",` + res + `}`, nil},
		{"NotPrincipal without us", `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/Admin"},"Action":"s3:PutBucket*",` + res + `}`, []string{"s3:PutBucketPolicy"}},
		{"NotPrincipal naming our account only still denies our session", `{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/Admin","arn:aws:iam::111122223333:root"]},"Action":"s3:GetBucketPolicy",` + res + `}`, []string{"s3:GetBucketPolicy"}},
		{"NotPrincipal naming our role and account but no session", `{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/BucketGuard-eu-west-1-RemediateRoleABC","arn:aws:iam::111122223333:root"]},"Action":"s3:GetBucketPolicy",` + res + `}`, []string{"s3:GetBucketPolicy"}},
		{"NotPrincipal naming session, role and account", `{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::111122223333:assumed-role/BucketGuard-eu-west-1-RemediateRoleABC/BucketGuard-Remediate","arn:aws:iam::111122223333:role/BucketGuard-eu-west-1-RemediateRoleABC","arn:aws:iam::111122223333:root"]},"Action":"s3:*",` + res + `}`, nil},
		{"the account's canonical user ID stands for the account", `{"Effect":"Deny","Principal":{"CanonicalUser":"79A59DF900B949E55D96A1E698FBACEDFD6E09D98EACF8F8D5218E7CD47EF2BE"},"Action":"s3:PutBucketPolicy",` + res + `}`, []string{"s3:PutBucketPolicy"}},
		{"another account's canonical user ID", `{"Effect":"Deny","Principal":{"CanonicalUser":"0000000000000000000000000000000000000000000000000000000000000000"},"Action":"s3:*",` + res + `}`, nil},
		{"an Allow is not a denial", `{"Effect":"Allow","Principal":"*","Action":"s3:*",` + res + `}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + tc.stmt + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			got := d.DeniesTo(c)
			var acts []string
			for _, g := range got {
				acts = append(acts, g.Actions...)
			}
			if strings.Join(acts, ",") != strings.Join(tc.want, ",") {
				t.Errorf("denied %v, want %v", acts, tc.want)
			}
		})
	}
}
