#!/usr/bin/python3
"""The draw-a-digit page in a real browser: headless Chromium driven by Selenium draws digits
with pointer strokes (mouse, pen and touch) on the page that `xtnn_example_mnist serve` serves,
and checks the prediction shown (waiting up to 30 s for each, as a loaded machine may need);
uploads a photo; saves a screenshot.

Skips (exit code 77) where Selenium, Chromium or chromedriver is absent, unless CI=true, where
that is a failure: CI must run it.

Usage: browser_test.py PROGRAM WEIGHTS SAMPLES_DIR [SCREENSHOT.png]
"""
import os
import shutil
import subprocess
import sys
import time

SKIP = 77


def skip(why):
    if os.environ.get("CI") == "true":
        print(f"browser test: {why}; CI must run it (scripts/setup.sh installs chromium, "
              "chromium-driver and python3-selenium)")
        sys.exit(1)
    print(f"browser test skipped: {why} (install chromium, chromium-driver, python3-selenium)")
    sys.exit(SKIP)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    skip("python3-selenium is not installed")

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    skip("chromium or chromedriver is not installed")

program, weights, samples = sys.argv[1], sys.argv[2], sys.argv[3]
screenshot = sys.argv[4] if len(sys.argv) > 4 else None

# Digits as pointer strokes on the 280 x 280 pad: lists of (x, y) polylines.
def ellipse(cx, cy, rx, ry, n=28):
    import math
    return [(cx + rx * math.sin(2 * math.pi * k / n), cy - ry * math.cos(2 * math.pi * k / n))
            for k in range(n + 1)]


DIGITS = {
    "1": [[(150, 40), (145, 140), (140, 240)]],
    "7": [[(70, 50), (140, 48), (210, 50), (170, 120), (135, 180), (115, 240)]],
    "0": [ellipse(140, 140, 62, 95)],
    "4": [[(170, 40), (95, 160), (215, 160)], [(175, 80), (175, 240)]],
}


def write_blank_png(path, width, height, level):
    """A gray PNG of one level: paper without ink."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes([level]) * width for _ in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                                        0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def draw(driver, pad, strokes, kind):
    """Draws the strokes with a pointer of `kind` (mouse, pen or touch)."""
    left = pad.rect["x"]
    top = pad.rect["y"]
    pointer = PointerInput(kind, kind + "-1")
    actions = ActionBuilder(driver, mouse=pointer)
    for stroke in strokes:
        x, y = stroke[0]
        actions.pointer_action.move_to_location(int(left + x), int(top + y))
        actions.pointer_action.pointer_down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for k in range(1, 5):  # small steps, as a hand moves
                t = k / 4
                actions.pointer_action.move_to_location(int(left + x0 + t * (x1 - x0)),
                                                        int(top + y0 + t * (y1 - y0)))
        actions.pointer_action.pointer_up()
    actions.perform()


def main():
    server = subprocess.Popen([program, "serve", "--weights", weights, "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("serving http://"):
            print(f"the server did not start: {line!r}")
            return 1
        url = line.split()[1]
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1000,700"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        failures = 0
        try:
            driver.get(url)
            pad = driver.find_element(By.ID, "pad")
            prediction = driver.find_element(By.ID, "prediction")
            kinds = [interaction.POINTER_MOUSE, interaction.POINTER_PEN,
                     interaction.POINTER_TOUCH, interaction.POINTER_MOUSE]
            for (digit, strokes), kind in zip(DIGITS.items(), kinds):
                driver.find_element(By.ID, "clear").click()
                WebDriverWait(driver, 30).until(lambda d: prediction.text == "")
                draw(driver, pad, strokes, kind)
                try:
                    WebDriverWait(driver, 30).until(lambda d: prediction.text == digit)
                    print(f"drew {digit} with a {kind}: the page shows {prediction.text}")
                except Exception:
                    status = driver.find_element(By.ID, "status").text
                    print(f"drew {digit} with a {kind}: the page shows {prediction.text!r} "
                          f"({status})")
                    failures += 1
            # The ten bars and the 28 x 28 input follow the last drawing.
            width = driver.find_element(By.ID, "bar-4").value_of_css_property("width")
            print(f"bar of 4: {width}")
            if width in ("0px", ""):
                print("the bar of the digit drawn is empty")
                failures += 1
            if screenshot:
                driver.save_screenshot(screenshot)
                print(f"wrote {screenshot}")
            # A photo, uploaded.
            upload = driver.find_element(By.ID, "upload")
            upload.send_keys(os.path.join(samples, "sample-2.jpg"))
            try:
                WebDriverWait(driver, 30).until(lambda d: prediction.text == "2")
                print("uploaded sample-2.jpg: the page shows 2")
            except Exception:
                print(f"uploaded sample-2.jpg: the page shows {prediction.text!r}")
                failures += 1
            # An upload that is not a digit: the page says so.
            blank = os.path.join(os.path.dirname(screenshot or samples), "blank-page.png")
            write_blank_png(blank, 40, 30, 240)
            upload.send_keys(blank)
            WebDriverWait(driver, 30).until(lambda d: prediction.text == "?")
            status = driver.find_element(By.ID, "status").text
            print(f"uploaded a blank page: {status}")
            if "no digit" not in status:
                failures += 1
        finally:
            driver.quit()
        return 1 if failures else 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
