package acl_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/acl"
)

// FuzzACL checks the ACL parser and judge on any input: no panic; every
// error wraps ErrInvalid; the judge partitions the grants (each index public
// or kept, never both); and removing the public grants leaves the owner and
// exactly the kept grants, in order, in an ACL that is no longer public.
func FuzzACL(f *testing.F) {
	f.Add([]byte(`{"Owner":{"ID":"` + owner + `"},"Grants":[` +
		`{"Grantee":{"ID":"` + owner + `","Type":"CanonicalUser"},"Permission":"FULL_CONTROL"},` +
		`{"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"},` +
		`{"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},"Permission":"WRITE_ACP"},` +
		`{"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/s3/LogDelivery"},"Permission":"WRITE"}]}`))
	f.Add([]byte(`{"Grants":[{"Grantee":{"Type":"Group","URI":"https://acs.amazonaws.com/groups/global/AllUsers/"},"Permission":"READ_ACP"}]}`))
	f.Add([]byte(`{"Grants":[{"Grantee":{"Type":"AmazonCustomerByEmail","EmailAddress":"a@example.com"},"Permission":"READ"}]}`))
	f.Add([]byte(`{"Grants":[]}`))
	f.Add([]byte(`{"Grants":[{"Grantee":{"URI":"x"}}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := acl.Parse(raw)
		if err != nil {
			if !errors.Is(err, acl.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		r := acl.Judge(a)
		if len(r.PublicGrants)+len(r.KeptGrants) != len(a.Grants) {
			t.Fatalf("%d grants, %d public + %d kept", len(a.Grants), len(r.PublicGrants), len(r.KeptGrants))
		}
		if r.Public != (len(r.PublicGrants) > 0) {
			t.Fatalf("public %v with public grants %v", r.Public, r.PublicGrants)
		}
		fixed := acl.WithoutPublic(a)
		if fixed.Owner != a.Owner {
			t.Fatalf("owner changed: %+v -> %+v", a.Owner, fixed.Owner)
		}
		if len(fixed.Grants) != len(r.KeptGrants) {
			t.Fatalf("%d grants left, %d kept", len(fixed.Grants), len(r.KeptGrants))
		}
		for i, k := range r.KeptGrants {
			if !reflect.DeepEqual(fixed.Grants[i], a.Grants[k]) {
				t.Fatalf("kept grant %d changed: %+v -> %+v", k, a.Grants[k], fixed.Grants[i])
			}
		}
		if again := acl.Judge(fixed); again.Public {
			t.Fatalf("public after removing public grants: %+v", again)
		}
	})
}
