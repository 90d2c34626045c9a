package clickup_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/internal/clock"
	"github.com/routerlogger/routerlogger/sync/clickup"
	"github.com/routerlogger/routerlogger/sync/clickup/clickuptest"
)

// beforeReset is a minute before the X-RateLimit-Reset of the fixtures
// (1741946160 = 2025-03-14T09:56:00Z).
var beforeReset = time.Date(2025, 3, 14, 9, 55, 0, 0, time.UTC)

// clientFixture is a client on a fake whose sleeper records its waits.
type clientFixture struct {
	fake   *clickuptest.Fake
	client *clickup.Client
	clock  *clock.Fake
	waits  []time.Duration
}

func newClientFixture(t *testing.T, lowWater int) *clientFixture {
	t.Helper()
	cf := &clientFixture{fake: clickuptest.New(t), clock: clock.NewFake(beforeReset)}
	sleep := func(_ context.Context, d time.Duration) error {
		cf.waits = append(cf.waits, d)
		cf.clock.Advance(d)
		return nil
	}
	var err error
	cf.client, err = clickup.NewClient(clickup.ClientConfig{BaseURL: cf.fake.URL(),
		Token: clickuptest.Token, Clock: cf.clock, Sleep: sleep, LowWater: lowWater})
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

func (cf *clientFixture) fields(t *testing.T, ctx context.Context) error {
	t.Helper()
	_, err := cf.client.Fields(ctx, clickuptest.List)
	return err
}

func TestClient_429(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    time.Duration
	}{
		{"Retry-After wins", "clickup-429-with-retry-after.txt", 17 * time.Second},
		{"else until the reset", "clickup-429-headers.txt", 60 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cf := newClientFixture(t, 0)
			s := clickuptest.RawAnswer(t, tt.fixture)
			s.Method, s.PathHas = "GET", "/field"
			cf.fake.On(s)

			if err := cf.fields(t, t.Context()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cf.waits, []time.Duration{tt.want}) || len(cf.fake.Requests()) != 2 {
				t.Errorf("waits %v, want [%s] then a retry", cf.waits, tt.want)
			}
		})
	}

	t.Run("a wait past the deadline is not slept", func(t *testing.T) {
		cf := newClientFixture(t, 0)
		s := clickuptest.RawAnswer(t, "clickup-429-headers.txt")
		s.Method, s.PathHas = "GET", "/field"
		cf.fake.On(s)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()

		err := cf.fields(t, ctx)
		wait, limited := clickup.RetryAfter(err)
		if !limited || wait != 60*time.Second || len(cf.waits) != 0 || !clickup.Unsent(err) {
			t.Errorf("error %v (wait %s), slept %v", err, wait, cf.waits)
		}
	})

	t.Run("retries are bounded", func(t *testing.T) {
		cf := newClientFixture(t, 0)
		s := clickuptest.RawAnswer(t, "clickup-429-with-retry-after.txt")
		s.Method, s.PathHas, s.Times = "GET", "/field", 100
		cf.fake.On(s)

		err := cf.fields(t, t.Context())
		var apiErr *clickup.Error
		if _, ok := clickup.RetryAfter(err); !ok || !errors.As(err, &apiErr) || apiErr.Code != "APP_002" ||
			len(cf.fake.Requests()) != 1+clickup.DefaultMaxRetries {
			t.Errorf("error %v after %d requests", err, len(cf.fake.Requests()))
		}
	})
}

func TestClient_Throttle(t *testing.T) {
	tests := []struct {
		name     string
		lowWater int
		want     []time.Duration
	}{
		{"remaining at the threshold waits for the reset", 3, []time.Duration{60 * time.Second}},
		{"remaining above the threshold does not", 2, nil},
		{"off", -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cf := newClientFixture(t, tt.lowWater)
			s := clickuptest.RawAnswer(t, "clickup-200-headers.txt")
			s.Method, s.PathHas = "GET", "/field"
			cf.fake.On(s)

			for range 3 {
				if err := cf.fields(t, t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(cf.waits, tt.want) {
				t.Errorf("waits %v, want %v", cf.waits, tt.want)
			}
		})
	}
}

func TestClient_Auth(t *testing.T) {
	fake := clickuptest.New(t)
	for _, tt := range []struct{ token, header string }{
		{clickuptest.Token, clickuptest.Token},
		{"FAKE_CLICKUP_OAUTH_TOKEN_90000001", "Bearer FAKE_CLICKUP_OAUTH_TOKEN_90000001"},
	} {
		c, err := clickup.NewClient(clickup.ClientConfig{BaseURL: fake.URL(), Token: tt.token})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Fields(t.Context(), clickuptest.List)
		var apiErr *clickup.Error
		if tt.token == clickuptest.Token && err != nil {
			t.Errorf("personal token: %v", err)
		}
		if tt.token != clickuptest.Token && (!clickup.IsAuth(err) || !errors.As(err, &apiErr) ||
			apiErr.Code != "OAUTH_025" || apiErr.Status != http.StatusUnauthorized) {
			t.Errorf("unknown token: %v, want OAUTH_025", err)
		}
	}
	if fake.OAuthHits() != 0 {
		t.Errorf("%d token requests", fake.OAuthHits())
	}
}
