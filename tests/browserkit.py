"""A real browser (headless Chromium) and the instructor's formgrader walk-through in it.

Shared by the local-mode and the docker-deployment tests: both deployments must give an
instructor the same day in the browser, and a student the same 403.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hubkit import ASSIGNMENT

COMMENT = "Start from torch.arange; see the broadcasting notes."
# Grading starts a kernel in a sandbox and imports torch: minutes on a loaded 2-core host.
GRADING_TIMEOUT = 900
PAGE_TIMEOUT = 180


def chromium():
    """Headless Debian Chromium driven by chromedriver (both from apt; bootstrap installs them)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("chromium/chromedriver missing: run scripts/bootstrap as root")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,900",
        f"--user-data-dir={tempfile.mkdtemp()}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def screenshot_folder(name: str) -> Path:
    """Where a walk-through keeps its screenshots: $COURSEHUB_ARTIFACTS/<name> or a temp dir."""
    base = os.environ.get("COURSEHUB_ARTIFACTS") or tempfile.mkdtemp(prefix="coursehub-shots-")
    folder = Path(base) / name
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {folder}")
    return folder


@contextmanager
def step(driver, shots, name):
    """One step of the walk-through; its screenshot is saved whether or not it passed."""
    try:
        yield
    finally:
        driver.save_screenshot(str(shots / f"{name}.png"))


def wait(driver, timeout=PAGE_TIMEOUT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout)


def find(driver, xpath, timeout=PAGE_TIMEOUT):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready

    return wait(driver, timeout).until(ready.visibility_of_element_located((By.XPATH, xpath)))


def log_in(driver, hub, name, password):
    from selenium.webdriver.common.by import By

    # Whoever was logged in logs out first (the hub's cookies are scoped to /hub/).
    driver.get(hub.url + "/hub/logout")
    driver.get(hub.url + "/hub/login")
    find(driver, "//input[@id='username_input']").send_keys(name)
    driver.find_element(By.ID, "password_input").send_keys(password)
    driver.find_element(By.ID, "login_submit").click()
    wait(driver).until(lambda d: "/hub/login" not in d.current_url)


def row(cls, text):
    """An XPath for the table row whose ``cls`` cell reads ``text``."""
    return f"//tr[td[contains(@class,'{cls}')][contains(normalize-space(.), '{text}')]]"


def click_and_read_modal(driver, xpath, timeout=PAGE_TIMEOUT):
    """Click a formgrader action and return the title and text of the modal it opens."""
    find(driver, xpath).click()
    modal = find(driver, "//div[@id='success-modal' or @id='error-modal']", timeout)
    wait(driver).until(lambda d: modal.text.strip())
    return modal.get_attribute("id"), modal.text


def instructor_walk(driver, hub, shots, course: str, student: str, total: float) -> float:
    """The instructor's day for one submission, all in the browser; return the points given.

    Opens the formgrader from the hub home page, autogrades ``student``'s submission from the
    page, grades a test cell by hand with a comment, generates and releases feedback, and
    opens the class report. ``hub`` is a running deployment (url, admin_password, cli).
    """
    formgrader = f"/services/{course}/formgrader"
    log_in(driver, hub, "admin", hub.admin_password)
    with step(driver, shots, "01-hub-home-instructor"):
        driver.get(hub.url + "/hub/home")
        link = find(driver, f"//a[@id='formgrader-{course}']")

    assignment = row("name", ASSIGNMENT)
    with step(driver, shots, "02-manage-assignments"):
        link.click()
        # The formgrader opens in a tab of its own: JupyterHub forbids framing it.
        wait(driver).until(lambda d: len(d.window_handles) == 2)
        driver.switch_to.window(driver.window_handles[-1])
        find(driver, assignment + "/td[contains(@class,'status')][contains(., 'released')]")
        find(driver, assignment + "/td[contains(@class,'num-submissions')]/a[.='1']").click()

    submission = row("student-id", student)
    with step(driver, shots, "03-manage-submissions"):
        find(
            driver, submission + "/td[contains(@class,'status')][contains(., 'needs autograding')]"
        )

    with step(driver, shots, "04-autograded"):
        kind, text = click_and_read_modal(
            driver, submission + "/td[contains(@class,'autograde')]/a", GRADING_TIMEOUT
        )
        assert kind == "success-modal", text
        # The formgrader grades through SandboxExecute, as `coursehub autograde` does (in
        # docker mode root starts the container for it: scripts/coursehub/grading/broker.py).
        assert re.search(rf"Executing {student}/{ASSIGNMENT} in a \w+ sandbox", text), text
        driver.get(f"{hub.url}{formgrader}/manage_submissions/{ASSIGNMENT}")
        score = find(driver, submission + "/td[contains(@class,'score')]").text
        assert score.strip() == f"0 / {total:g}", score

    with step(driver, shots, "05-formgrade-commented"):
        driver.get(f"{hub.url}{formgrader}/manage_students/{student}/{ASSIGNMENT}")
        find(driver, "//a[contains(@href, '/formgrader/submissions/')]").click()
        points = grade_first_test_by_hand(driver)

    with step(driver, shots, "06-feedback-generated"):
        driver.get(f"{hub.url}{formgrader}/manage_submissions/{ASSIGNMENT}")
        score = find(driver, submission + "/td[contains(@class,'score')]").text
        assert score.strip() == f"{points:g} / {total:g}", score
        driver.get(f"{hub.url}{formgrader}/manage_assignments")
        kind, text = click_and_read_modal(
            driver, assignment + "/td[contains(@class,'generate-feedback')]/a", GRADING_TIMEOUT
        )
        assert kind == "success-modal" and "Successfully generated feedback" in text, text

    with step(driver, shots, "07-feedback-released"):
        driver.get(f"{hub.url}{formgrader}/manage_assignments")
        kind, text = click_and_read_modal(
            driver, assignment + "/td[contains(@class,'release-feedback')]/a"
        )
        assert kind == "success-modal" and "Successfully released feedback" in text, text

    with step(driver, shots, "08-class-report"):
        # The report is written into the course folder, which the formgrader's server serves.
        hub.cli("report")
        driver.get(f"{hub.url}/services/{course}/files/reports/index.html")
        find(driver, f"//a[.='{ASSIGNMENT}']").click()
        find(driver, f"//h1[contains(., '{ASSIGNMENT}')]")
        find(driver, "//img[starts-with(@src, 'data:image/png;base64,')]")
    return points


def grade_first_test_by_hand(driver) -> float:
    """Give full credit to the first test cell and comment on the first answer; return points."""
    from selenium.webdriver.common.keys import Keys

    # The page fills scores and comments in once the gradebook answers; wait for that.
    score = find(driver, "(//input[contains(@class,'score')])[1]")
    # Its placeholder is the autograded score; the input holds a manual score, none yet.
    auto = wait(driver).until(lambda d: score.get_attribute("placeholder"))
    assert float(auto) == 0, f"the untouched notebook's first test scored {auto}"
    assert score.get_attribute("value") == "", "a manual score before anyone graded by hand"
    grade_id = score.get_attribute("id")
    limit = score.find_element("xpath", "..").text
    points = float(re.search(r"/\s*([\d.]+)", limit).group(1))
    panel = f"//div[contains(@class,'panel-heading')][.//input[@id='{grade_id}']]"
    find(driver, panel + "//button[contains(@class,'full-credit')]").click()
    comment = find(driver, "(//textarea[contains(@class,'comment')])[1]")
    wait(driver).until(lambda d: comment.get_attribute("placeholder"))
    comment.send_keys(COMMENT)
    comment.send_keys(Keys.TAB)  # the comment is saved when the box loses focus
    find(driver, "(//span[contains(@class,'comment-saved')])[1]")
    # Saved in the gradebook, not just typed: a fresh page shows both.
    driver.refresh()
    wait(driver).until(
        lambda d: (
            d.find_element("id", grade_id).get_attribute("value") == f"{points:g}"
            and d.find_element(
                "xpath", "(//textarea[contains(@class,'comment')])[1]"
            ).get_attribute("value")
            == COMMENT
        )
    )
    return points


def fetch_feedback(browser, student: str, course: str) -> str:
    """Fetch the released feedback as the student does from the Assignments tab; its HTML."""
    base = f"/user/{student}"

    def submission():
        """The student's latest submission as the Assignments tab lists it."""
        listed = browser.server_call("GET", f"{base}/assignments", params={"course_id": course})
        # Released assignments come first, then submitted ones (with their submissions).
        item = next(a for a in listed.json()["value"] if a.get("submissions"))
        assert item["assignment_id"] == ASSIGNMENT, item
        return item["submissions"][-1]

    assert submission()["has_exchange_feedback"], "no feedback released to the student"
    fetched = browser.server_call(
        "POST",
        f"{base}/assignments/fetch_feedback",
        data={"course_id": course, "assignment_id": ASSIGNMENT},
    ).json()
    assert fetched["success"], fetched
    latest = submission()
    assert latest["has_local_feedback"], latest
    html = f"{base}/api/contents/{latest['local_feedback_path']}/{ASSIGNMENT}.html"
    return browser.server_call("GET", html).json()["content"]


def assert_feedback_reached_student(browser, student, course, points, total) -> None:
    """The instructor's comment and score are in the feedback the student fetched."""
    feedback = fetch_feedback(browser, student, course)
    assert COMMENT in feedback, "the instructor's comment is not in the student's feedback"
    assert f"{ASSIGNMENT} (Score: {points:.1f} / {total:.1f})" in feedback, "wrong score"


def student_walk(driver, hub, shots, course: str, student: str, password: str) -> None:
    """A student sees no formgrader link on the hub home page and gets 403 on its URL."""
    log_in(driver, hub, student, password)
    with step(driver, shots, "09-hub-home-student"):
        driver.get(hub.url + "/hub/home")
        find(driver, "//a[@id='start']")
        assert "Formgrader" not in driver.page_source, "a student sees the formgrader link"
    with step(driver, shots, "10-student-formgrader-403"):
        driver.get(f"{hub.url}/services/{course}/formgrader")
        wait(driver).until(lambda d: "403" in d.page_source)
        assert "Manage Assignments" not in driver.page_source
