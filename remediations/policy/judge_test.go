package policy_test

import (
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/policy"
)

func stmt(t *testing.T, s string) policy.Statement {
	t.Helper()
	d, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + s + `]}`))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return d.Statements[0]
}

const getObj = `"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`

// The cases follow "The meaning of public" in the S3 User Guide; the
// examples marked (doc) are AWS's own.
func TestJudgeStatement(t *testing.T) {
	tests := []struct {
		name   string
		stmt   string
		public bool
	}{
		// Open principals with no pinning condition.
		{"star principal", `{"Effect":"Allow","Principal":"*",` + getObj + `}`, true},
		{"AWS star", `{"Effect":"Allow","Principal":{"AWS":"*"},` + getObj + `}`, true},
		{"AWS star in a list", `{"Effect":"Allow","Principal":{"AWS":["*"]},` + getObj + `}`, true},
		{"AWS star beside an account", `{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","*"]},` + getObj + `}`, true},
		{"wildcard in an account ARN", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},` + getObj + `}`, true},
		{"service star", `{"Effect":"Allow","Principal":{"Service":"*"},` + getObj + `}`, true},
		{"canonical user star", `{"Effect":"Allow","Principal":{"CanonicalUser":"*"},` + getObj + `}`, true},
		{"policy variable principal", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/${aws:username}"},` + getObj + `}`, true},
		{"federated web identity (doc)", `{"Principal":{"Federated":"graph.facebook.com"},"Resource":"*","Action":"s3:PutObject","Effect":"Allow"}`, true},
		{"star PutObject (doc)", `{"Principal":"*","Resource":"*","Action":"s3:PutObject","Effect":"Allow"}`, true},
		{"NotPrincipal allow", `{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},` + getObj + `}`, true},
		{"lower-case allow", `{"Effect":"allow","Principal":"*",` + getObj + `}`, true},

		// Conditions that do not pin.
		{"StringLike SourceVpc vpc-* (doc)", `{"Principal":"*","Resource":"*","Action":"s3:PutObject","Effect":"Allow","Condition":{"StringLike":{"aws:SourceVpc":"vpc-*"}}}`, true},
		{"IfExists does not pin", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`, true},
		{"ForAllValues does not pin", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"ForAllValues:StringEquals":{"aws:SourceAccount":"111122223333"}}}`, true},
		{"negation does not pin", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}}`, true},
		{"Null does not pin", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"Null":{"aws:SourceVpce":"false"}}}`, true},
		{"0.0.0.0/0", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}`, true},
		{"0.0.0.0/1 (doc)", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/1"}}}`, true},
		{"IPv4 /7 reaching past 10/8", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/7"}}}`, true},
		{"IPv6 /31", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"2001:db8::/31"}}}`, true},
		{"one broad range among narrow", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":["54.240.143.0/24","0.0.0.0/0"]}}}`, true},
		{"not an IP", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"office"}}}`, true},
		{"IpAddressIfExists", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddressIfExists":{"aws:SourceIp":"54.240.143.0/24"}}}`, true},
		{"NotIpAddress", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"NotIpAddress":{"aws:SourceIp":"54.240.143.0/24"}}}`, true},
		{"wildcard SourceArn", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:distribution/*"}}}`, true},
		{"policy variable value", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}}`, true},
		{"unlisted key", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"s3:prefix":"home/"}}}`, true},
		{"SecureTransport is not a pin", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, true},
		{"userid wildcard prefix", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringLike":{"aws:userid":"AROA*"}}}`, true},
		{"access point ARN with wildcard region", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:*:111122223333:accesspoint/*"}}}`, true},
		{"access point ARN with wildcard account", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:*:accesspoint/*"}}}`, true},
		{"pin key under a wrong operator", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"NumericEquals":{"aws:SourceAccount":"111122223333"}}}`, true},
		{"empty value list", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:SourceVpc":[]}}}`, true},

		// Not public.
		{"deny never grants", `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}`, false},
		{"deny with NotPrincipal", `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}`, false},
		{"cross-account root", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},` + getObj + `}`, false},
		{"bare account id", `{"Effect":"Allow","Principal":{"AWS":"444455556666"},` + getObj + `}`, false},
		{"role", `{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:role/reader"]},` + getObj + `}`, false},
		{"service principal", `{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}`, false},
		{"CloudFront OAI canonical user", `{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},` + getObj + `}`, false},
		{"fixed SourceVpc (doc)", `{"Principal":"*","Resource":"*","Action":"s3:PutObject","Effect":"Allow","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}}`, false},
		{"IP range with exception (doc)", `{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"54.240.143.0/24"},"NotIpAddress":{"aws:SourceIp":"54.240.143.188/32"}}}`, false},
		{"IPv4 /8", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"54.0.0.0/8"}}}`, false},
		{"RFC 1918 range", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16"]}}}`, false},
		{"bare address", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}}`, false},
		{"IPv6 /32", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}}`, false},
		{"PrincipalOrgID", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}`, false},
		{"PrincipalAccount", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:PrincipalAccount":"444455556666"}}}`, false},
		{"PrincipalArn", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/reader"}}}`, false},
		{"SourceAccount with a service", `{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}`, false},
		{"fixed SourceArn via ArnLike", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:distribution/E1ABCDEF"}}}`, false},
		{"SourceVpce set", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1a2b3c4d","vpce-5e6f7a8b"]}}}`, false},
		{"SourceOwner", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:SourceOwner":"111122223333"}}}`, false},
		{"userid AROLEID:*", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringLike":{"aws:userid":"AROAEXAMPLEROLEID0001:*"}}}`, false},
		{"userid fixed", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:userid":"AIDAEXAMPLEUSER0ALICE"}}}`, false},
		{"DataAccessPointAccount", `{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}}`, false},
		{"DataAccessPointArn name wildcard (doc)", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}}`, false},
		{"KMS key id", `{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}}`, false},
		{"ForAnyValue pins", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"ForAnyValue:StringEquals":{"aws:SourceVpc":"vpc-91237329"}}}`, false},
		{"key names are case-insensitive", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"AWS:SOURCEVPC":"vpc-91237329"}}}`, false},
		{"one pin is enough (conditions AND)", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringEquals":{"aws:SourceVpc":"vpc-91237329"},"StringLike":{"aws:SourceArn":"*"}}}`, false},
		{"no principal grants nothing", `{"Effect":"Allow",` + getObj + `}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := stmt(t, tt.stmt).Judge()
			if v.Public != tt.public {
				t.Errorf("Public = %v, want %v (reason: %s)", v.Public, tt.public, v.Reason)
			}
			if v.Reason == "" {
				t.Error("no reason given")
			}
			if !v.Public && (v.Read || v.Write) {
				t.Errorf("not public but Read=%v Write=%v", v.Read, v.Write)
			}
		})
	}
}

func TestJudgeReadWrite(t *testing.T) {
	tests := []struct {
		name        string
		actions     string
		read, write bool
	}{
		{"GetObject", `"Action":"s3:GetObject"`, true, false},
		{"read list", `"Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"]`, true, false},
		{"PutObject", `"Action":"s3:PutObject"`, false, true},
		{"DeleteObject", `"Action":"s3:DeleteObject"`, false, true},
		{"PutBucketAcl is a write", `"Action":"s3:PutBucketAcl"`, false, true},
		{"PutBucketPolicy is a write", `"Action":"s3:PutBucketPolicy"`, false, true},
		{"GetObjectAcl is a read", `"Action":"s3:GetObjectAcl"`, true, false},
		{"AbortMultipartUpload", `"Action":"s3:AbortMultipartUpload"`, false, true},
		{"RestoreObject", `"Action":"s3:RestoreObject"`, false, true},
		{"s3:*", `"Action":"s3:*"`, true, true},
		{"*", `"Action":"*"`, true, true},
		{"s3:Get*", `"Action":"s3:Get*"`, true, false},
		{"s3:List*", `"Action":"s3:List*"`, true, false},
		{"s3:Put*", `"Action":"s3:Put*"`, false, true},
		{"s3:*Object", `"Action":"s3:*Object"`, true, true},
		{"s3:Get?bject", `"Action":"s3:Get?bject"`, true, false},
		{"case-insensitive", `"Action":"S3:getobject"`, true, false},
		{"NotAction Put*", `"NotAction":"s3:Put*"`, true, true},
		{"NotAction all reads", `"NotAction":["s3:Get*","s3:List*","s3:Describe*"]`, false, true},
		{"NotAction s3:*", `"NotAction":"s3:*"`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := stmt(t, `{"Effect":"Allow","Principal":"*",`+tt.actions+`,"Resource":"*"}`).Judge()
			if !v.Public || v.Read != tt.read || v.Write != tt.write {
				t.Errorf("got public=%v read=%v write=%v, want read=%v write=%v", v.Public, v.Read, v.Write, tt.read, tt.write)
			}
		})
	}
}

// "How Amazon S3 evaluates a bucket policy that contains both public and
// non-public access grants": CloudTrail, Account-2, then a public statement.
func TestJudgeMixedPolicyDoc(t *testing.T) {
	d, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"CloudTrail","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/AWSLogs/*"},
	 {"Sid":"Account2","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
	 {"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := policy.Judge(d)
	if !r.Public || !r.PublicRead || r.PublicWrite {
		t.Errorf("report %+v: want public read only", r)
	}
	for i, want := range []bool{false, false, true} {
		if r.Statements[i].Public != want {
			t.Errorf("statement %d public = %v, want %v", i, r.Statements[i].Public, want)
		}
	}
	if r.Statements[2].Sid != "Public" || r.Statements[2].Index != 2 {
		t.Errorf("statement 2 = %+v", r.Statements[2])
	}
}

func TestParseSingleStatementAndErrors(t *testing.T) {
	d, err := policy.Parse([]byte(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`))
	if err != nil || len(d.Statements) != 1 || !d.Statements[0].Judge().Public {
		t.Fatalf("single statement object: %v %+v", err, d)
	}
	for _, bad := range []string{
		``, `[]`, `{"Statement":"x"}`, `{"Statement":[1]}`, `{"Statement":[{"Effect":1}]}`,
		`{"Statement":[{"Principal":true}]}`, `{"Statement":[{"Action":[1]}]}`,
		`{"Statement":[{"Condition":{"StringEquals":{"k":{"a":1}}}}]}`, `{"Statement":[]} x`,
		`{"Statement":[],"Statement":[]}`, `{"Statement":[{"Effect":"Allow"}]`,
	} {
		if _, err := policy.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestReasonsNameTheCause(t *testing.T) {
	v := stmt(t, `{"Effect":"Allow","Principal":"*",`+getObj+`,"Condition":{"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}}`).Judge()
	if !strings.Contains(v.Reason, "aws:SourceVpc") {
		t.Errorf("reason %q does not name the pinning key", v.Reason)
	}
	v = stmt(t, `{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},`+getObj+`}`).Judge()
	if !strings.Contains(v.Reason, "NotPrincipal") {
		t.Errorf("reason %q does not name NotPrincipal", v.Reason)
	}
}
