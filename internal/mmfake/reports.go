package mmfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

func (s *Server) registerReports() {
	s.Mux.HandleFunc("GET /api/v4/reports/users", s.getUsersForReporting)
}

// reportRow is a /reports/users row: the user plus the facts only the report has.
type reportRow struct {
	mattermost.User
	LastLogin int64 `json:"last_login,omitempty"`
}

// getUsersForReporting serves the keyset-paged user report (bots left out),
// for the Username sort only.
func (s *Server) getUsersForReporting(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pageSize := 50
	if v, err := strconv.Atoi(q.Get("page_size")); err == nil {
		pageSize = v
	}
	if pageSize <= 0 || pageSize > 100 {
		WriteError(w, http.StatusBadRequest, "api.getUsersForReporting.invalid_page_size", "Invalid page size.")
		return
	}
	if col := q.Get("sort_column"); col != "" && col != "Username" {
		WriteError(w, http.StatusBadRequest, "model.user_report_options.is_valid.invalid_sort_column", "the fake sorts by Username only")
		return
	}
	if q.Get("direction") == "prev" || q.Get("sort_direction") == "desc" {
		WriteError(w, http.StatusBadRequest, "fake.unsupported", "the fake pages forward only")
		return
	}
	s.Mu.Lock()
	var rows []reportRow
	for _, u := range s.Users {
		if !u.IsBot {
			rows = append(rows, reportRow{User: u, LastLogin: s.LastLogins[u.ID]})
		}
	}
	s.Mu.Unlock()
	slices.SortFunc(rows, func(a, b reportRow) int {
		if c := strings.Compare(a.Username, b.Username); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if v, id := q.Get("from_column_value"), q.Get("from_id"); v != "" && id != "" {
		rows = slices.DeleteFunc(rows, func(row reportRow) bool {
			return row.Username < v || (row.Username == v && row.ID <= id)
		})
	}
	rows = rows[:min(pageSize, len(rows))]
	if rows == nil {
		rows = []reportRow{}
	}
	WriteJSON(w, http.StatusOK, rows)
}
