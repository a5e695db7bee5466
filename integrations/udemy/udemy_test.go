package udemy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/udemy"
	"github.com/383project/opsbot/integrations/udemy/udemytest"
)

func client(t *testing.T, f *udemytest.Server, page int) *udemy.Client {
	t.Helper()
	c, err := udemy.New(udemy.Config{APIURL: f.URL, OrganizationID: udemytest.Organization, ClientID: udemytest.ClientID,
		ClientSecret: udemytest.ClientSecret, PageSize: page, Attempts: 3, Backoff: time.Millisecond}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCourseActivityFollowsNextAndRetries(t *testing.T) {
	f := udemytest.New(t)
	done := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, e := range []string{"a@x.example", "B@x.example", "c@x.example", "d@x.example", "e@x.example"} {
		r := udemytest.Row{Email: e, Name: "P", CourseID: 567828, CourseTitle: "Secure Coding", CompletionRatio: 40}
		if i%2 == 0 {
			r.FirstCompleted = done
		}
		f.Add(r)
	}
	f.Add(udemytest.Row{Email: "other@x.example", CourseID: 1, CourseTitle: "Other"})
	f.FailNext(udemytest.Failure{Status: 429, RetryAfter: "0"}, udemytest.Failure{Status: 524})
	got, err := client(t, f, 2).CourseActivity(context.Background(), []string{"567828"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[1].Email != "b@x.example" || !got[0].FirstCompleted.Equal(done) || !got[1].FirstCompleted.IsZero() {
		t.Fatalf("activity: %+v", got)
	}
	if n := len(f.Requests()); n != 5 { // 2 refused + 3 pages of 2
		t.Fatalf("%d requests, want 5", n)
	}
}

func TestCourseActivityErrors(t *testing.T) {
	f := udemytest.New(t)
	f.FailNext(udemytest.Failure{Status: 503}, udemytest.Failure{Status: 503}, udemytest.Failure{Status: 503})
	_, err := client(t, f, 0).CourseActivity(context.Background(), []string{"1"})
	if ok, _ := integrations.IsRetryable(err); !ok {
		t.Fatalf("three 503s: %v, want retryable", err)
	}
	// A page size the API refuses is not retried.
	_, err = client(t, f, 500).CourseActivity(context.Background(), []string{"1"})
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("page_size 500: %v", err)
	}
	bad, _ := udemy.New(udemy.Config{APIURL: f.URL, OrganizationID: udemytest.Organization, ClientID: "x", ClientSecret: "wrong-secret"}, nil, nil)
	_, err = bad.CourseActivity(context.Background(), []string{"1"})
	if !errors.Is(err, integrations.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("bad credentials: %v", err)
	}
	if r := f.Requests(); r[len(r)-1].Header.Get("Authorization") == "" {
		t.Fatal("no Authorization header")
	}
}
