"""Regenerate the article fixtures in tests/data/formats/ with real tools.

HTML pages are written here (with a site's boilerplate), PDFs are printed from them by
headless Chromium, DOCX files are written by python-docx, and the legacy-encoded .txt
files by Python's codecs. Run from the repository root:

    .venv/bin/python scripts/make_format_fixtures.py

Needs /usr/bin/chromium and a font with Arabic glyphs (Debian's fonts-dejavu-core).
"""

from __future__ import annotations

import html
import io
import json
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import docx
from docx.oxml.ns import qn
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "formats"
CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class Site:
    name: str
    domain: str
    nav: tuple[str, ...]
    cookie: str
    accept: str
    ads: tuple[str, str]
    share: str
    related_heading: str
    related: tuple[str, ...]
    comments_heading: str
    comments: tuple[tuple[str, str], ...]
    newsletter: str
    footer: tuple[str, ...]
    by: str


@dataclass(frozen=True)
class Story:
    slug: str
    lang: str
    site: Site
    section: str
    title: str
    author: str
    published: str  # ISO 8601 with offset, as the page's meta tags carry it
    shown_date: str  # as the byline prints it
    tags: str
    paragraphs: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"https://www.{self.site.domain}/news/2025/{self.slug}"

    def byline(self) -> str:
        """The line under the headline: author, outlet and date, as the page shows it."""
        return f"{self.site.by} {self.author} · {self.site.name} · {self.shown_date}"

    def body(self) -> str:
        """Ground truth: the headline and the paragraphs, blank lines between."""
        return "\n\n".join([self.title, *self.paragraphs]) + "\n"

    def with_byline(self) -> str:
        """Ground truth where the byline is kept (the printed PDF, the Word file)."""
        return "\n\n".join([self.title, self.byline(), *self.paragraphs]) + "\n"

    def boilerplate(self) -> list[str]:
        """Every line of the page that is not the article, for counting what leaks through."""
        s = self.site
        lines = [s.cookie, *s.nav, *s.ads, s.share, s.related_heading, *s.related]
        lines += [s.comments_heading, s.newsletter, *s.footer, self.tags]
        lines += [line for pair in s.comments for line in pair]
        return lines


AFAQ = Site(
    name="صحيفة الأفق",
    domain="alofoq-news.example",
    nav=("الرئيسية", "محليات", "اقتصاد", "عربي ودولي", "رياضة", "ثقافة وفنون", "اتصل بنا"),
    cookie="نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا، وبمواصلة التصفح فإنك "
    "توافق على سياسة الخصوصية.",
    accept="موافق",
    ads=(
        "إعلان: احصل على خصم 50٪ على اشتراكك السنوي في النسخة الرقمية",
        "إعلان: شقق فاخرة للبيع بالتقسيط المريح في قلب العاصمة",
    ),
    share="شارك الخبر: فيسبوك | إكس | واتساب | نسخ الرابط",
    related_heading="اقرأ أيضا",
    related=(
        "ارتفاع أسعار الخضار في الأسواق المركزية مع بداية الصيف",
        "افتتاح معرض الكتاب الدولي بمشاركة أكثر من 400 دار نشر",
        "منتخب الشباب يتأهل إلى نهائي البطولة العربية",
    ),
    comments_heading="التعليقات (3)",
    comments=(
        ("أبو خالد", "مشروع مهم جدا، نتمنى أن يصل الماء إلى كل البيوت قبل الصيف القادم."),
        ("سمر", "أين دراسة الأثر البيئي؟ يجب نشرها كاملة للناس."),
        ("محمد العلي", "كلام جميل لكننا سمعنا الوعود نفسها قبل عشر سنوات."),
    ),
    newsletter="اشترك في نشرتنا البريدية ليصلك ملخص أهم الأخبار كل صباح",
    footer=(
        "من نحن | سياسة الخصوصية | شروط الاستخدام | أعلن معنا",
        "© 2025 صحيفة الأفق. جميع الحقوق محفوظة.",
    ),
    by="بقلم",
)

MARSAD = Site(
    name="المرصد الاقتصادي",
    domain="almarsad-eco.example",
    nav=("الرئيسية", "أسواق", "بنوك", "طاقة", "عقارات", "تكنولوجيا", "آراء"),
    cookie="يستخدم هذا الموقع ملفات الارتباط لأغراض التحليل والإعلانات المخصصة.",
    accept="قبول الكل",
    ads=(
        "إعلان: افتح حساب تداول مجاني اليوم وابدأ الاستثمار بمئة دولار فقط",
        "إعلان: دورة احترافية في التحليل المالي بشهادة معتمدة",
    ),
    share="مشاركة: فيسبوك · إكس · لينكدإن · البريد",
    related_heading="أخبار ذات صلة",
    related=(
        "الذهب يسجل أعلى مستوى له منذ ثلاثة أشهر",
        "تراجع عجز الميزان التجاري في الربع الثالث",
        "الحكومة تطرح سندات دولارية جديدة بقيمة ملياري دولار",
    ),
    comments_heading="آراء القراء",
    comments=(
        ("مستثمر صغير", "الفائدة العالية تقتل المشاريع الصغيرة، متى سيبدأ الخفض؟"),
        ("هدى", "تحليل ممتاز وواضح، شكرا للمرصد."),
    ),
    newsletter="سجل بريدك الإلكتروني لتصلك نشرة الأسواق اليومية",
    footer=(
        "عن المرصد | فريق التحرير | الخصوصية | للإعلان",
        "جميع الحقوق محفوظة © المرصد الاقتصادي 2025",
    ),
    by="كتب",
)

HARBOUR = Site(
    name="The Harbour Times",
    domain="harbourtimes.example",
    nav=("Home", "UK", "World", "Business", "Sport", "Opinion", "Subscribe"),
    cookie="We use cookies to personalise content and ads and to analyse our traffic. "
    "By continuing to browse you agree to our cookie policy.",
    accept="Accept all cookies",
    ads=(
        "Advertisement: Save 40% on your first year of digital access",
        "Sponsored: Five ways to cut your energy bill this winter",
    ),
    share="Share this article: Facebook | X | WhatsApp | Email",
    related_heading="Related stories",
    related=(
        "Ferry operator announces new winter timetable",
        "Council approves plans for a second container terminal",
        "Fishing fleet warns of falling catches in the North Sea",
    ),
    comments_heading="Comments (3)",
    comments=(
        ("dockside_dave", "About time the bosses listened. Good result for the lads."),
        ("Margaret H", "Who pays for this in the end? Shoppers, as always."),
        ("J. Patel", "Three days of chaos and a deal they could have signed on day one."),
    ),
    newsletter="Sign up to our morning briefing and get the day's top stories by email",
    footer=(
        "About us | Contact | Privacy policy | Terms of use | Advertise",
        "© 2025 Harbour Times Media Ltd. All rights reserved.",
    ),
    by="By",
)

LEDGER = Site(
    name="Northern Ledger",
    domain="northernledger.example",
    nav=("News", "Weather", "Politics", "Local", "Environment", "Jobs", "Puzzles"),
    cookie="This site uses cookies. Some are essential, others help us improve your "
    "experience and show relevant adverts.",
    accept="OK, got it",
    ads=(
        "Advertisement: Flood-proof your home with our certified barriers",
        "Promoted: The valley's best weekend breaks, from £89",
    ),
    share="Share: Facebook · X · Email · Copy link",
    related_heading="More on this story",
    related=(
        "Volunteers fill sandbags as the river rises",
        "Insurers face record claims after the wettest January",
        "Opinion: our flood defences are a decade behind",
    ),
    comments_heading="Reader comments",
    comments=(
        ("riverside_resident", "Our street was under water again. Nobody came until day two."),
        ("Tom B", "Thank you to the crews working through the night."),
    ),
    newsletter="Get weather alerts for your postcode straight to your inbox",
    footer=(
        "Contact the newsroom | Corrections | Privacy | Cookie settings",
        "Northern Ledger is published by Ledger Local Media. © 2025",
    ),
    by="By",
)

STORIES = (
    Story(
        slug="ar-desalination",
        lang="ar",
        site=AFAQ,
        section="محليات",
        title="الأردن يفتتح المرحلة الأولى من مشروع تحلية مياه العقبة",
        author="ليلى حداد",
        published="2025-03-12T09:30:00+03:00",
        shown_date="الأربعاء 12 آذار/مارس 2025",
        tags="وسوم: المياه، العقبة، البيئة",
        paragraphs=(
            "عمّان – افتتحت وزارة المياه والري الأردنية يوم الأربعاء المرحلة الأولى من مشروع "
            "تحلية مياه البحر في العقبة، في خطوة تقول الحكومة إنها ستخفف العجز المائي المزمن "
            "الذي تعاني منه المملكة منذ عقود.",
            "وقال وزير المياه في مؤتمر صحفي عقده في موقع المشروع إن المحطة ستنتج في مرحلتها "
            "الأولى نحو 50 مليون متر مكعب سنويا، على أن ترتفع الطاقة الإنتاجية تدريجيا حتى "
            "عام 2028.",
            "ويعد الأردن من أفقر دول العالم بالمياه، إذ لا تتجاوز حصة الفرد السنوية فيه تسعين "
            "مترا مكعبا، وهو رقم أقل بكثير من خط الفقر المائي الذي تحدده الأمم المتحدة.",
            "وأوضح الوزير أن المياه المحلاة ستنقل عبر خط أنابيب يمتد أكثر من أربعمئة كيلومتر من "
            "خليج العقبة إلى العاصمة عمّان، مرورا بعدد من المحافظات الجنوبية التي ستحصل على "
            "حصة من الإنتاج.",
            "من جهتهم، أبدى خبراء بيئيون قلقهم من أثر المياه المالحة المركزة التي تعيدها المحطة "
            "إلى البحر على الشعاب المرجانية في خليج العقبة، وطالبوا بنشر نتائج دراسة الأثر "
            "البيئي كاملة.",
            "وردت الوزارة بأن المشروع يخضع لرقابة مستقلة، وأن أنظمة التصريف صممت لتوزيع المياه "
            "المالحة على مسافة كافية من الشواطئ، مؤكدة أن تقارير المراقبة ستنشر كل ستة أشهر.",
            "ويأتي افتتاح المحطة بعد صيف شهد انقطاعات متكررة في ضخ المياه إلى الأحياء الشرقية "
            "من عمّان، حيث اعتمدت أسر كثيرة على شراء المياه من الصهاريج الخاصة بأسعار مرتفعة.",
        ),
    ),
    Story(
        slug="ar-central-bank",
        lang="ar",
        site=MARSAD,
        section="بنوك",
        title="البنك المركزي يثبت أسعار الفائدة للمرة الثالثة على التوالي",
        author="كريم منصور",
        published="2025-11-06T21:15:00+02:00",
        shown_date="6 نوفمبر 2025",
        tags="الكلمات المفتاحية: الفائدة، التضخم، البنك المركزي",
        paragraphs=(
            "القاهرة – قرر البنك المركزي في اجتماعه الدوري مساء الخميس الإبقاء على أسعار "
            "الفائدة الأساسية دون تغيير للمرة الثالثة على التوالي، مشيرا إلى تباطؤ معدلات "
            "التضخم خلال الأشهر الأخيرة.",
            "وقالت لجنة السياسة النقدية في بيان إن التضخم السنوي في المدن تراجع إلى 12.5 "
            "بالمئة في أكتوبر، مقارنة بنحو 15 بالمئة في الشهر السابق، وإن الأسعار لا تزال "
            "بحاجة إلى مراقبة دقيقة.",
            "وتوقع محللون استطلعت آراؤهم قبل الاجتماع أن يبقي البنك على الفائدة، إلا أن بعضهم "
            "رجح أن يبدأ دورة خفض تدريجية مطلع العام المقبل إذا استمر تراجع التضخم.",
            "وقالت الخبيرة الاقتصادية سلمى عبد الرحمن إن القرار يعكس حذر البنك من عودة الضغوط "
            "على سعر الصرف، لافتة إلى أن تدفقات الاستثمار الأجنبي في أدوات الدين المحلية ما "
            "زالت حساسة لأي تغيير مفاجئ.",
            "وفي المقابل، اشتكى أصحاب مصانع صغيرة من ارتفاع تكلفة الاقتراض، وقالوا إن الفائدة "
            "المرتفعة تحد من قدرتهم على التوسع وتوظيف عمال جدد في ظل ركود الطلب المحلي.",
            "ومن المقرر أن تعقد لجنة السياسة النقدية اجتماعها المقبل في ديسمبر، وهو الاجتماع "
            "الأخير في العام الجاري.",
        ),
    ),
    Story(
        slug="en-port-strike",
        lang="en",
        site=HARBOUR,
        section="Business",
        title="Port workers end three-day strike after pay deal",
        author="Daniel Okafor",
        published="2025-06-18T17:05:00+01:00",
        shown_date="Wednesday 18 June 2025 17.05 BST",
        tags="Topics: Shipping, Trade unions, Pay",
        paragraphs=(
            "Dock workers at the country's second-largest container port returned to work on "
            "Wednesday evening after union members voted to accept a revised pay offer, ending "
            "a three-day strike that left more than forty ships waiting at anchor.",
            "The deal gives around 1,800 crane operators, lashers and drivers a rise of 7.5% "
            "this year and a further 4% next April, together with a one-off payment of £1,200. "
            "The port operator had initially offered 5%.",
            "“Our members stood together and it paid off,” said the union's regional organiser, "
            "Karen Mills. “Nobody takes strike action lightly, but the cost of living has gone "
            "up for everyone who works on these quays.”",
            "The operator said it was pleased that an agreement had been reached and that it "
            "expected the backlog of vessels to be cleared by the weekend. Extra night shifts "
            "have been scheduled to unload perishable goods first.",
            "Retailers had warned that shortages of fresh fruit and electronics could appear in "
            "shops within days if the dispute continued. The British Retail Consortium welcomed "
            "the settlement but said supply chains remained fragile.",
            "The strike was the first at the port since 1989. Union leaders said talks on "
            "working hours and safety staffing would resume in September.",
        ),
    ),
    Story(
        slug="en-flood-warning",
        lang="en",
        site=LEDGER,
        section="Environment",
        title="River levels fall but flood warnings stay in place across the valley",
        author="Mei Lin Carter",
        published="2025-01-27T08:00:00+00:00",
        shown_date="27 January 2025",
        tags="Tags: Flooding, Weather, Environment Agency",
        paragraphs=(
            "Water levels on the River Calder began to fall overnight, but the Environment "
            "Agency kept six flood warnings in place on Monday morning as more rain is expected "
            "later in the week.",
            "The river peaked at 4.2 metres at the Mytholm gauge shortly after 2am on Sunday, "
            "the highest reading since the floods of December 2015. About 300 homes and 90 "
            "businesses were flooded in the upper valley.",
            "Emergency crews rescued 27 people from cars and houses on Saturday night. No one "
            "was seriously hurt, according to the fire service, which said it had received "
            "more than 400 calls in twelve hours.",
            "Residents in Mytholmroyd spent Sunday clearing mud and ruined furniture from their "
            "homes. Many said the new flood walls completed in 2021 had held, but water came up "
            "through drains and cellars instead.",
            "The council has opened a rest centre at the town hall and says grants of up to "
            "£500 will be available to households that were flooded. Applications open on "
            "Wednesday.",
            "Forecasters expect a band of heavy rain to reach the Pennines on Thursday. The "
            "agency urged people not to drive through flood water and to sign up for its free "
            "warning service.",
        ),
    ),
)

CSS = """
body { font-family: 'DejaVu Sans', sans-serif; margin: 0; font-size: 15px; }
.cookie-banner { background: #222; color: #fff; padding: 8px; }
.site-header nav ul { list-style: none; display: flex; gap: 12px; }
.ad { border: 1px dashed #999; padding: 10px; margin: 10px 0; color: #555; }
main { max-width: 760px; margin: auto; }
h1 { font-size: 24px; }
.byline, .share, .tags, .breadcrumbs { color: #666; font-size: 13px; }
@media print {
  .cookie-banner, .site-header, .ad, .breadcrumbs, .share, .tags, .related,
  .comments, .newsletter, footer { display: none; }
}
"""


def _json_ld(story: Story) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.title,
        "datePublished": story.published,
        "dateModified": story.published,
        "inLanguage": story.lang,
        "mainEntityOfPage": story.url,
        "author": [{"@type": "Person", "name": story.author}],
        "publisher": {
            "@type": "NewsMediaOrganization",
            "name": story.site.name,
            "logo": {"@type": "ImageObject", "url": f"https://www.{story.site.domain}/logo.png"},
        },
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def render_page(story: Story) -> str:
    """A saved news page: the article wrapped in a site's menus, ads, comments and footer."""
    s, e = story.site, html.escape
    direction = "rtl" if story.lang == "ar" else "ltr"
    nav = "".join(f'<li><a href="/{i}">{e(item)}</a></li>' for i, item in enumerate(s.nav))
    paragraphs = [f"<p>{e(p)}</p>" for p in story.paragraphs]
    paragraphs.insert(3, f'<div class="ad ad-inline"><a href="/ads/2">{e(s.ads[1])}</a></div>')
    related = "".join(f'<li><a href="/news/{i}">{e(r)}</a></li>' for i, r in enumerate(s.related))
    comments = "".join(
        f'<div class="comment"><p class="comment-author">{e(who)}</p><p>{e(said)}</p></div>'
        for who, said in s.comments
    )
    footer = "".join(f"<p>{e(line)}</p>" for line in s.footer)
    return f"""<!DOCTYPE html>
<html lang="{story.lang}" dir="{direction}">
<head>
<meta charset="utf-8">
<title>{e(story.title)} | {e(s.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{e(story.paragraphs[0][:150])}">
<meta name="author" content="{e(story.author)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{e(story.title)}">
<meta property="og:site_name" content="{e(s.name)}">
<meta property="og:url" content="{e(story.url)}">
<meta property="article:published_time" content="{story.published}">
<meta property="article:section" content="{e(story.section)}">
<link rel="canonical" href="{e(story.url)}">
<script type="application/ld+json">
{_json_ld(story)}
</script>
<style>{CSS}</style>
</head>
<body>
<div class="cookie-banner" id="cookie-consent"><p>{e(s.cookie)}</p>
<button type="button">{e(s.accept)}</button></div>
<header class="site-header"><div class="logo"><a href="/">{e(s.name)}</a></div>
<nav class="main-menu"><ul>{nav}</ul></nav></header>
<div class="ad ad-top"><a href="/ads/1">{e(s.ads[0])}</a></div>
<main>
<article class="story">
<nav class="breadcrumbs"><a href="/">{e(s.nav[0])}</a> › <a href="/s">{e(story.section)}</a></nav>
<h1>{e(story.title)}</h1>
<div class="byline">{e(s.by)} <span class="author">{e(story.author)}</span> · <span
class="outlet">{e(s.name)}</span> · <time
datetime="{story.published}">{e(story.shown_date)}</time></div>
<div class="share">{e(s.share)}</div>
<div class="article-body">
{"".join(paragraphs)}
</div>
<p class="tags">{e(story.tags)}</p>
</article>
<aside class="related"><h2>{e(s.related_heading)}</h2><ul>{related}</ul></aside>
<section class="comments"><h2>{e(s.comments_heading)}</h2>{comments}</section>
<div class="newsletter"><p>{e(s.newsletter)}</p><form><input type="email"></form></div>
</main>
<footer class="site-footer">{footer}</footer>
</body>
</html>
"""


def print_pdf(page: Path, pdf: Path) -> None:
    """Print ``page`` to ``pdf`` with headless Chromium, without its date/URL header."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def screenshot(page: Path, png: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                f"--user-data-dir={profile}",
                "--hide-scrollbars",
                "--window-size=800,900",
                f"--screenshot={png}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def write_docx(story: Story, path: Path) -> None:
    """The article as a Word file: a title paragraph, the byline, then the body; RTL for
    Arabic."""
    document = docx.Document()
    rtl = story.lang == "ar"
    paragraphs = [document.add_paragraph(story.title, style="Title")]
    paragraphs.append(document.add_paragraph(story.byline()))
    paragraphs += [document.add_paragraph(text) for text in story.paragraphs]
    for paragraph in paragraphs:
        if not rtl:
            continue
        paragraph.paragraph_format.alignment = docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
        paragraph._p.get_or_add_pPr().append(paragraph._p.makeelement(qn("w:bidi"), {}))
        for run in paragraph.runs:
            run._r.get_or_add_rPr().append(run._r.makeelement(qn("w:rtl"), {}))
    props = document.core_properties
    props.title = story.title
    props.author = story.author
    props.language = story.lang
    props.created = datetime(2025, 3, 11, 18, 0) if rtl else datetime(2025, 6, 18, 15, 30)
    props.modified = props.created
    props.last_modified_by = story.author
    props.revision = 1
    document.save(path)


ENCODED_TEXT = (
    "وزارة الزراعة تطلق حملة لمكافحة الجراد في المناطق الحدودية\n\n"
    "الخرطوم - 3 شباط/فبراير 2025 - أعلنت وزارة الزراعة اليوم إطلاق حملة واسعة لمكافحة "
    "أسراب الجراد التي رصدت في المناطق الحدودية الجنوبية، وقالت إن فرقها رشت أكثر من "
    "ثلاثة آلاف هكتار خلال الأسبوع الماضي.\n\n"
    "وأوضح المتحدث باسم الوزارة أن الحملة تستمر حتى نهاية الشهر، وأن المزارعين مدعوون "
    "إلى الإبلاغ عن أي أسراب جديدة عبر الرقم المجاني.\n"
)


def write_front_matter(story: Story, path: Path) -> None:
    """The article as Markdown with its metadata in a front-matter block."""
    head = (
        f"---\ntitle: {story.title}\ndate: {story.published}\nsource: {story.site.name}\n"
        f"url: {story.url}\nauthor: {story.author}\n---\n\n"
    )
    path.write_text(head + story.body(), encoding="utf-8")


def write_encoded(name: str, encoding: str, text: str = ENCODED_TEXT) -> None:
    (OUT / name).write_bytes(text.encode(encoding))


def write_scanned_pdf(story: Story, tmp: Path) -> None:
    """A 'scanned' article: a photo of the printed page, with no text layer."""
    png = tmp / "shot.png"
    screenshot(OUT / f"{story.slug}.html", png)
    jpeg = io.BytesIO()
    Image.open(png).convert("L").save(jpeg, "JPEG", quality=40)
    (tmp / "scan.jpg").write_bytes(jpeg.getvalue())
    page = tmp / "scan.html"
    page.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><img src="scan.jpg" style="width:100%">'
        "</body></html>",
        encoding="utf-8",
    )
    print_pdf(page, OUT / "scanned.pdf")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for story in STORIES:
        (OUT / f"{story.slug}.html").write_text(render_page(story), encoding="utf-8")
        (OUT / f"{story.slug}.body.txt").write_text(story.body(), encoding="utf-8")
        (OUT / f"{story.slug}.with-byline.txt").write_text(story.with_byline(), encoding="utf-8")
        (OUT / f"{story.slug}.boilerplate.txt").write_text(
            "\n".join(story.boilerplate()) + "\n", encoding="utf-8"
        )
        print_pdf(OUT / f"{story.slug}.html", OUT / f"{story.slug}.pdf")
    for story in (STORIES[0], STORIES[2]):
        write_docx(story, OUT / f"{story.slug}.docx")
    write_front_matter(STORIES[3], OUT / f"{STORIES[3].slug}.md")
    write_encoded("ar-locusts.cp1256.txt", "cp1256")
    write_encoded("ar-locusts.iso8859-6.txt", "iso8859_6")
    write_encoded("ar-locusts.utf16.txt", "utf-16")  # Python writes the BOM
    (OUT / "ar-locusts.body.txt").write_text(ENCODED_TEXT, encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        write_scanned_pdf(STORIES[2], Path(tmp))
    for path in sorted(OUT.iterdir()):
        print(f"{path.stat().st_size:>8,}  {path.name}")


if __name__ == "__main__":
    main()
