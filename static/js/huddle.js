/* Meeting mode for the weekly huddle: keyboard shortcuts that drive the row actions, and focus
   that follows the work as htmx swaps rows and panels in place.

   Every shortcut only presses a link or button that is on the page anyway, so the page works
   the same without this file. Single-letter shortcuts are live only in meeting mode, which the
   user switches on and off (WCAG 2.1.4), and never while typing in a field. */
"use strict";

(function () {
  const huddle = document.querySelector("[data-huddle]");
  if (!huddle) return;

  const toggle = huddle.querySelector("[data-meeting-toggle]");
  const live = document.getElementById("huddle-live");
  const STORAGE_KEY = "attendnc:huddle-meeting";
  const ROW_KEYS = { d: "d", o: "o", l: "l", e: "e", r: "r" };

  const rows = () => Array.from(huddle.querySelectorAll("[data-row]"));
  // Words come from the page (data-msg-*), so they are translated with the rest of it.
  const say = (name, fallback) => huddle.dataset["msg" + name] || fallback;
  const isClosed = (row) => row.classList.contains("is-closed");
  const isOpenForTalk = (row) => !isClosed(row) && !row.classList.contains("is-discussed");
  const rowOf = (element) => (element && element.closest ? element.closest("[data-row]") : null);
  const isField = (element) => element && element.matches("input, select, textarea, [contenteditable]");
  let lastRow = null;

  function inMeeting() {
    return huddle.dataset.meeting === "on";
  }

  function setMeeting(on) {
    huddle.dataset.meeting = on ? "on" : "off";
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? say("Leave", "Leave meeting mode") : say("Start", "Start meeting mode");
    try {
      sessionStorage.setItem(STORAGE_KEY, on ? "on" : "off");
    } catch (error) {
      /* private browsing: the mode just does not survive a reload */
    }
    if (on) {
      const start = rowOf(document.activeElement) || rows().find(isOpenForTalk) || rows()[0];
      if (start) focusRow(start);
      announce(say("On", "Meeting mode on."));
    } else {
      announce(say("Off", "Meeting mode off."));
    }
  }

  function focusRow(row) {
    const target = row.querySelector("[data-row-focus]");
    if (!target) return;
    target.focus();
    row.scrollIntoView({ block: "nearest" });
    lastRow = row;
  }

  // j / k: the next or previous row still open (closed rows are the record, not the meeting).
  function move(delta) {
    const list = rows();
    if (!list.length) return;
    const current = rowOf(document.activeElement) || lastRow;
    let index = current ? list.indexOf(current) + delta : 0;
    while (index >= 0 && index < list.length && isClosed(list[index])) index += delta;
    if (index < 0 || index >= list.length) {
      announce(delta > 0 ? say("Last", "No open student after this one.") : say("First", "No open student before this one."));
      return;
    }
    focusRow(list[index]);
  }

  // n: the next row nobody has discussed yet, wrapping around once.
  function nextUndiscussed() {
    const list = rows();
    const current = rowOf(document.activeElement) || lastRow;
    const start = current ? list.indexOf(current) + 1 : 0;
    const ordered = list.slice(start).concat(list.slice(0, start));
    const found = ordered.find(isOpenForTalk);
    if (found) focusRow(found);
    else announce(say("AllDiscussed", "Every open student on this page has been discussed."));
  }

  function press(row, key) {
    if (!row) return;
    const control = row.querySelector(`[data-shortcut="${key}"]`);
    if (control) control.click();
    else if (isClosed(row)) announce(say("Closed", "This student's row is closed: no actions left."));
    else announce(say("Unavailable", "That action is not available here."));
  }

  function closePanel(row) {
    const panel = row && row.querySelector(".huddle-row__panel");
    if (panel && panel.firstElementChild) {
      panel.replaceChildren();
      focusRow(row);
    }
  }

  function announce(message) {
    if (live) live.textContent = message;
  }

  document.addEventListener("keydown", (event) => {
    if (!inMeeting() || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const row = rowOf(target) || lastRow;
    if (event.key === "Escape") {
      closePanel(rowOf(target));
      return;
    }
    if (isField(target) || (target.closest && target.closest("[data-panel]"))) return;
    const key = event.key;
    if (key === "j" || key === "ArrowDown") move(1);
    else if (key === "k" || key === "ArrowUp") move(-1);
    else if (key === "n") nextUndiscussed();
    else if (key === "c") press(row, "c");
    else if (ROW_KEYS[key]) press(row, ROW_KEYS[key]);
    else if (key === "p") huddle.querySelector("[data-pdf-link]")?.click();
    else if (key === "m") setMeeting(false);
    else return;
    event.preventDefault();
  });

  huddle.addEventListener("focusin", (event) => {
    const row = rowOf(event.target);
    if (row) lastRow = row;
  });

  huddle.addEventListener("click", (event) => {
    const close = event.target.closest("[data-panel-close]");
    const row = rowOf(close);
    if (close && row) {
      event.preventDefault();
      closePanel(row);
    }
  });

  // A panel that arrives gets the focus on its first field; a row re-rendered after an action
  // gets it back on the student's name, so the next shortcut acts on the same student.
  document.body.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.target;
    if (target && target.classList && target.classList.contains("huddle-row__panel")) {
      const field = target.querySelector("input:not([type=hidden]), select, textarea");
      if (field) field.focus();
      return;
    }
    const swapped = document.querySelector("[data-focus-after-swap]");
    if (swapped) {
      swapped.removeAttribute("data-focus-after-swap");
      focusRow(swapped);
    }
  });

  document.body.addEventListener("huddleChanged", (event) => {
    const { discussed, total, message } = event.detail;
    const progress = document.getElementById("huddle-progress");
    progress.querySelector("[data-discussed]").textContent = discussed;
    progress.querySelector("[data-total]").textContent = total;
    progress.querySelector("[data-pct]").textContent = total ? Math.round((100 * discussed) / total) : 0;
    const bar = document.getElementById("huddle-progress-bar");
    bar.max = total || 1;
    bar.value = discussed;
    const counted = say("Progress", "{discussed} of {total} on the agenda discussed.")
      .replace("{discussed}", discussed)
      .replace("{total}", total);
    announce(`${message} ${counted}`);
  });

  // Meeting mode is for the school's team (it needs JavaScript); mentors and read-only readers get no toggle.
  if (!toggle) return;
  toggle.hidden = false;
  toggle.addEventListener("click", () => setMeeting(!inMeeting()));
  let remembered = "off";
  try {
    remembered = sessionStorage.getItem(STORAGE_KEY) || "off";
  } catch (error) {
    /* see setMeeting */
  }
  if (remembered === "on") setMeeting(true);
})();
