package mmfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) registerReports() {
	s.Mux.HandleFunc("GET /api/v4/reports/users", s.getUsersForReporting)
}

// reportRow is a /reports/users row (model.UserReport): the user plus what
// only the report has, last_login (/users never shows it) and the post stats.
type reportRow struct {
	User
	LastLogin int64 `json:"last_login,omitempty"`
	PostStats
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
		WriteError(w, http.StatusBadRequest, IDReportPageSize, "Invalid page size.")
		return
	}
	if col := q.Get("sort_column"); col != "" && col != "Username" {
		WriteError(w, http.StatusBadRequest, IDReportSortColumn, "the fake sorts by Username only")
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
			rows = append(rows, reportRow{User: u, LastLogin: s.LastLogins[u.ID], PostStats: s.PostStats[u.ID]})
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
