"""The demo intranet page offers an employee in every demo team (issue 16, part 6)."""
from __future__ import annotations

import dataclasses


def test_the_demo_page_lists_every_demo_employee(app, client_for):
    from bot.admin.demo import DEMO_EMPLOYEES

    app.config["MANDAT_SETTINGS"] = dataclasses.replace(app.config["MANDAT_SETTINGS"], widget_dev_mode=True,
                                                       jwt_secret="dev-secret-for-the-test")
    html = client_for(None).get("/demo?medarbejder=gustav").get_data(as_text=True)
    assert "Logget ind som <strong>Gustav Madsen</strong>, anlægsgartner" in html
    for key, (_, name, unit, job) in DEMO_EMPLOYEES.items():
        assert name in html and job in html
        if key != "gustav":
            assert f'href="/demo?medarbejder={key}"' in html
