package admin

import (
	"net/http"

	"github.com/heraldnews/herald/digest"
)

type sectionCount struct {
	Name       string
	Recipients int
}

type checkPage struct {
	Page
	Form       sendForm
	Req        digest.SendNowRequest
	Since      string
	Report     digest.DryRunReport
	Window     string
	BySection  []sectionCount
	SampleID   string // the sample's frame, "" when nobody would get one
	SampleTo   string
	Subject    string
	TestResult string // after "send me a test"
	TestError  bool
}

// sendCheck runs what a send-now would do, recording and sending nothing
// (the CLI's --dry-run, so the counts are the same), and shows it with a
// rendered sample and the confirm step naming the number of recipients.
func (h *Handler) sendCheck(w http.ResponseWriter, r *http.Request, rq *request) {
	h.check(w, r, rq, "", false)
}

func (h *Handler) check(w http.ResponseWriter, r *http.Request, rq *request, testResult string, testErr bool) {
	req, since, err := sendRequest(r)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	rep, err := h.opt.Digests.DryRun(r.Context(), req)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	f, err := h.form(r, req, since)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if req.Digest == "" {
		req.Digest = rep.Digest
	}
	loc := zone(rq.ed)
	data := checkPage{Page: h.pageOf(rq, "Check: "+rep.Digest, "send"), Form: f, Req: req, Since: since, Report: rep,
		Window: when(rep.Since, loc) + " to " + when(rep.Cutoff, loc), TestResult: testResult, TestError: testErr}
	for _, name := range rep.SortedSections() {
		data.BySection = append(data.BySection, sectionCount{Name: name, Recipients: rep.BySection[name]})
	}
	if rep.Sample != nil {
		data.SampleID = h.samples.put(rep.Sample.HTML)
		data.SampleTo, data.Subject = string(rep.Sample.ToAddr), rep.Sample.Subject
	}
	h.render(w, r, rq, http.StatusOK, "admin/send-check", data)
}

// sendSample sends one sample of the checked send-now to the editor's own
// address ("send me a test"), then shows the check again with the result.
func (h *Handler) sendSample(w http.ResponseWriter, r *http.Request, rq *request) {
	req, _, err := sendRequest(r)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	res, err := h.opt.Digests.SendSample(r.Context(), req, string(rq.ed.Email))
	if err != nil {
		h.check(w, r, rq, "The test could not be sent: "+problemText(err), true)
		return
	}
	h.opt.Accounts.Record(r.Context(), rq.actor(), "send_test", string(rq.ed.Email), req.Describe())
	h.check(w, r, rq, "A test was sent to "+string(rq.ed.Email)+" ("+res.Reply+").", false)
}
