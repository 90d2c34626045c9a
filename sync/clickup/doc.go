// Package clickup keeps one ClickUp task per router up to date: it finds
// the list's custom fields by name, creates a task for every router that
// has none, updates the task's core fields and its custom fields (MAC,
// IMEI, serial, RMS id, firmware, last seen, data used today, operational
// status, dashboard link) when they changed, and comments on the task when
// the router goes offline or comes back.
//
// Every router's writes end with a change hash stored in clickup_tasks;
// an unchanged router costs no request. Each custom-field write is
// recorded as it succeeds, so a router whose writes failed part-way is
// finished by the next run without resending what already went through,
// and the task id is stored in its own transaction right after the create,
// so a task is never created twice (a create whose answer was lost is
// looked up in the list before another is tried).
//
// The [Client] throttles itself from ClickUp's X-RateLimit-* headers and
// waits out a 429 (Retry-After when present, else the reset time) within
// the run's context. ClickUp tokens do not expire: a 401 is an
// authorization error ([IsAuth]), never a reason to ask for a token.
package clickup
