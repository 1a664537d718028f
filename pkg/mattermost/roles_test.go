package mattermost_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// POST /roles/names only reads, so a transient failure is retried like a GET.
func TestRolesByNamesIsRetried(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = flaky(2, func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) })
	roles, err := newClient(t, fake).GetRolesByNames(context.Background(), []string{"system_admin", "no_such_role"})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 1 || roles[0].Name != "system_admin" || len(fake.Requests()) != 3 {
		t.Errorf("roles %v after %d requests", roles, len(fake.Requests()))
	}
}

// 501 is how Mattermost says "needs a license": retrying cannot help.
func TestNotImplementedIsNotRetried(t *testing.T) {
	fake := mmfake.New(t)
	_, err := newClient(t, fake).ListGroups(context.Background(), mattermost.Cursor{})
	if mattermost.StatusCode(err) != http.StatusNotImplemented || !mattermost.HasID(err, "api.license_error") {
		t.Fatalf("got %v", err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestUserReportKeysetPaging(t *testing.T) {
	fake := mmfake.New(t)
	for _, name := range []string{"bea", "cid", "dan"} {
		fake.Users = append(fake.Users, mmfake.User{ID: "id" + name, Username: name})
	}
	fake.Users = append(fake.Users, mmfake.User{ID: "idbot", Username: "bot", IsBot: true})
	fake.LastLogins["idcid"] = 1234
	c := newClient(t, fake)
	page, err := c.ListUserReport(context.Background(), mattermost.ReportAfter("bea", "idbea"))
	if err != nil {
		t.Fatal(err)
	}
	rows := page.Items
	if page.Next != nil {
		t.Errorf("a short page has a next cursor %+v", page.Next)
	}
	if len(rows) != 2 || rows[0].Username != "cid" || rows[0].LastLogin != 1234 || rows[1].Username != "dan" {
		t.Errorf("rows after bea: %+v", rows)
	}
	if req := fake.Requests()[0]; !strings.Contains(req, "from_column_value=bea") || !strings.Contains(req, "page_size=100") {
		t.Errorf("request %s", req)
	}
}
