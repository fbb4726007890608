"""The standard notice a clinic starts from, following the structure of the policy Praxis was
built for: who we are, what we collect, why, who receives it, transfers abroad, how long it
is kept, your rights, cookies, how to complain. The [[markers]] are written by Praxis from
the clinic's settings and what it really uses, each time a version is published."""

from __future__ import annotations

DEFAULT_NOTICE = """\
## Who we are

[[controller]]

This notice explains what personal data we hold about you when you use our portal to
register, book and attend consultations, why, who receives it, how long we keep it and
what your rights are.

## What we collect

- **When you register:** your name, username, address, phone number and email address.
- **When you book:** the consultation, its date and time, and the Professional you chose.
- **Before your first consultation:** your answers to our intake questionnaire (such as
  height, weight and what concerns you). This is health information.
- **During consultations:** the notes your Professional writes, including while a video
  call runs.
- **When you pay:** the amount and whether it was paid. Card details go straight to the
  payment provider's own page; we never see or store them.
- **When you contact us:** what you write to us.

## Why we use it, and on what basis

- To arrange and provide the consultations you book, take payment and send you
  confirmations and reminders: **to perform our contract with you**.
- To provide care using health information: **your explicit consent** and the provision of
  health care (UK GDPR Art. 9(2)(a) and (h)).
- To keep records the law requires, such as billing records for tax: **legal obligation**.
- To send you news and offers, only if you opted in on that channel: **your consent**,
  which you can withdraw at any time.

## Who receives it

We never sell your data. These organisations receive it, only for the purposes shown.
This list is written automatically from the services our portal uses:

[[recipients]]

Every disclosure is recorded: signed in, see *Account, Who received my data*.

## Transfers abroad

[[transfers]]

## How long we keep it

[[retention]]

## Your rights

You have the right to see and get a copy of your data, to have it corrected, to have it
erased, to restrict or object to how we use it, to take it to another provider, and to
withdraw any consent at any time (what was done before stays lawful). Many of these you
can do yourself under *Account*; for anything else, write to our data protection contact
below. We answer within one month.

## Cookies

[[cookies]]

## How to contact us or complain

[[contact]]
"""

REQUIRED_MARKERS = ("[[recipients]]", "[[contact]]")  # P22 and P36 cannot be edited away
MARKERS = (
    "[[controller]]",
    "[[recipients]]",
    "[[transfers]]",
    "[[retention]]",
    "[[cookies]]",
    "[[contact]]",
)

# The [[cookies]] section: what the portal sets, and what it counts once a visitor accepts.
COOKIES_NECESSARY = """\
We set only the cookies the portal needs to work (keeping you signed in, protecting forms,
remembering your choice about cookies). See [the cookies we use](/privacy/cookies)."""
COOKIES_WITH_ANALYTICS = """\
We set the cookies the portal needs to work (keeping you signed in, protecting forms,
remembering your choice about cookies) and, only if you accept them, analytics cookies.

**Analytics cookies (only with your consent).** If you accept them, we count visits to our
portal to improve it: how many times each page was viewed each day, and how many visitors
came each day. Our own portal counts them; nobody else receives them. The cookie holds a
random number, never your name, and lasts at most 13 months. We do not record your IP
address, your browser or your account with the counts, page addresses are counted without
any reference numbers in them, and staff see only totals. Without your consent no analytics
cookie is set and nothing is counted. Accept or reject them on any page while you have not
chosen, and change your mind at any time on [the cookies page](/privacy/cookies) (signed in,
also under *Account, Privacy and consents*)."""

PLATFORM_NOTICE = """\
## Who we are

[[controller]], runs this platform. We are the data controller of your account on the
platform pages, of this site's own data (such as security logs) and of platform marketing,
if you agreed to it.

Each clinic on the platform is the data controller of its patients' data (bookings,
questionnaires, consultation notes, payments) and has its own privacy notice at `/privacy`
on its portal. For that data we act only as the clinic's processor, on its instructions.

## What we collect and why

- **Operator and staff accounts:** name, username, email and sign-in records, to run the
  platform securely (**legitimate interests** and our **contract** with each clinic).
- **Security records:** which account did what and when, without names or contact details,
  to protect the platform and detect abuse (**legitimate interests**).
- **Platform marketing:** only with your consent, which you can withdraw at any time.

## Who receives it

[[processors]]

## How long we keep it

Accounts while they are open; security records for up to 12 months; a clinic's data as its
own notice says, and never longer than its retention periods.

## Your rights

You may ask to see, correct, erase, restrict or take away your data, object to how we use
it, and withdraw consent at any time. For a clinic's patient data, ask the clinic: we help it
answer.

## How to contact us or complain

Our data protection contact: [[dpo]].

You have the right to complain to the **Information Commissioner's Office (ICO)**: [[complaints]].
"""
