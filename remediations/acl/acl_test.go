package acl_test

import (
	"reflect"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/acl"
)

const owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

func grant(typ, who, perm string) acl.Grant {
	g := acl.Grant{Grantee: acl.Grantee{Type: typ}, Permission: perm}
	switch typ {
	case acl.Group:
		g.Grantee.URI = who
	case acl.AmazonCustomerByEmail:
		g.Grantee.EmailAddress = who
	default:
		g.Grantee.ID = who
	}
	return g
}

func TestJudgeGrant(t *testing.T) {
	tests := []struct {
		name                string
		g                   acl.Grant
		public, read, write bool
	}{
		{"AllUsers READ", grant(acl.Group, acl.AllUsers, "READ"), true, true, false},
		{"AllUsers READ_ACP", grant(acl.Group, acl.AllUsers, "READ_ACP"), true, true, false},
		{"AllUsers WRITE", grant(acl.Group, acl.AllUsers, "WRITE"), true, false, true},
		{"AllUsers WRITE_ACP", grant(acl.Group, acl.AllUsers, "WRITE_ACP"), true, false, true},
		{"AllUsers FULL_CONTROL", grant(acl.Group, acl.AllUsers, "FULL_CONTROL"), true, true, true},
		{"AuthenticatedUsers READ", grant(acl.Group, acl.AuthenticatedUsers, "READ"), true, true, false},
		{"AuthenticatedUsers https variant", grant(acl.Group, "https://acs.amazonaws.com/groups/global/AuthenticatedUsers/", "WRITE"), true, false, true},
		{"LogDelivery WRITE", grant(acl.Group, acl.LogDelivery, "WRITE"), false, false, false},
		{"LogDelivery READ_ACP", grant(acl.Group, acl.LogDelivery, "READ_ACP"), false, false, false},
		{"owner FULL_CONTROL", grant(acl.CanonicalUser, owner, "FULL_CONTROL"), false, false, false},
		{"other canonical user", grant(acl.CanonicalUser, "be7e1c3f0a", "READ"), false, false, false},
		{"by e-mail", grant(acl.AmazonCustomerByEmail, "partner@example.com", "READ"), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.g.Judge()
			if v.Public != tt.public || v.Read != tt.read || v.Write != tt.write || v.Reason == "" {
				t.Errorf("got %+v, want public=%v read=%v write=%v", v, tt.public, tt.read, tt.write)
			}
		})
	}
}

func TestWithoutPublicKeepsTheRest(t *testing.T) {
	a := acl.ACL{Owner: acl.Owner{ID: owner, DisplayName: "acme"}, Grants: []acl.Grant{
		grant(acl.CanonicalUser, owner, "FULL_CONTROL"),
		grant(acl.Group, acl.AllUsers, "READ"),
		grant(acl.Group, acl.LogDelivery, "WRITE"),
		grant(acl.Group, acl.AuthenticatedUsers, "WRITE"),
		grant(acl.CanonicalUser, "be7e1c3f0a", "READ"),
	}}
	r := acl.Judge(a)
	if !r.Public || !r.PublicRead || !r.PublicWrite {
		t.Errorf("report %+v", r)
	}
	if !reflect.DeepEqual(r.PublicGrants, []int{1, 3}) || !reflect.DeepEqual(r.KeptGrants, []int{0, 2, 4}) {
		t.Errorf("public %v kept %v", r.PublicGrants, r.KeptGrants)
	}
	got := acl.WithoutPublic(a)
	want := acl.ACL{Owner: a.Owner, Grants: []acl.Grant{a.Grants[0], a.Grants[2], a.Grants[4]}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithoutPublic = %+v", got)
	}
	if acl.Judge(got).Public {
		t.Error("still public")
	}
	if acl.OnlyOwner(got) {
		t.Error("OnlyOwner true with LogDelivery and a second user")
	}
}

func TestParseCLIOutput(t *testing.T) {
	a, err := acl.Parse([]byte(`{
    "Owner": {"DisplayName": "acme", "ID": "` + owner + `"},
    "Grants": [
        {"Grantee": {"DisplayName": "acme", "ID": "` + owner + `", "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}
    ]
}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := acl.Judge(a); !reflect.DeepEqual(r.PublicGrants, []int{1}) {
		t.Errorf("public grants %v", r.PublicGrants)
	}
	for _, bad := range []string{``, `[]`, `{"Owner":{}}`, `{"Grants":[{"Permission":"READ","Grantee":{}}]}`,
		`{"Grants":[{"Grantee":{"URI":"x"}}]}`, `{"Grants":"x"}`, `{"Grants":[]} {}`} {
		if _, err := acl.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
