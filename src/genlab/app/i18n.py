"""The studio's one message catalogue: every label, help text, caption, message and error a page
shows, in English and Russian (the course's language).

    from genlab.app.i18n import t
    st.button(t("t2i.generate"))                  # the current session's language
    t("t2i.success", n=8, prompt="a thin 4", ...)  # str.format placeholders

The language is the session's choice in the sidebar (``st.session_state["lang"]``), first taken
from the ``?lang=ru`` query parameter; outside a Streamlit session it is English. Messages are
``(English, Russian)`` pairs with the same placeholders (a test checks both and that the pages hold
no user-facing English literal of their own).
"""

from __future__ import annotations

import re
import string

LANGS = {"en": "English", "ru": "Русский"}
DEFAULT = "en"
STATE_KEY = "lang"

#: key -> (English, Russian)
MESSAGES: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ the frame: title, menu, language
    "app.title": ("genlab studio", "genlab — студия"),
    "app.language": ("Language · Язык", "Language · Язык"),
    "nav.text_to_image": ("Text to image", "Текст → изображение"),
    "nav.search": ("Image search", "Поиск изображений"),
    "nav.zero_shot": ("Zero-shot classifier", "Zero-shot классификатор"),
    "nav.latent": ("Latent explorer", "Латентное пространство"),
    "nav.generators": ("Generators", "Генераторы"),
    "nav.diffusion": ("Diffusion viewer", "Диффузия по шагам"),
    "nav.rl": ("Reinforcement learning", "Обучение с подкреплением"),
    "nav.fewshot": ("Few-shot", "Обучение по нескольким примерам"),
    "nav.runs": ("Runs", "Запуски"),
    # ------------------------------------------------------------------ shared furniture (ui.py, status.py, models.py)
    "common.seed": ("Seed", "Зерно (seed)"),
    "common.generate": ("Generate", "Сгенерировать"),
    "common.classify": ("Classify", "Классифицировать"),
    "common.classifying": ("classifying", "классификация"),
    "common.episode_seed": ("Episode seed", "Зерно эпизода"),
    "common.run": ("Run", "Запуск"),
    "common.digits": (
        "zero,one,two,three,four,five,six,seven,eight,nine",
        "ноль,один,два,три,четыре,пять,шесть,семь,восемь,девять",
    ),
    "ui.what_default": ("that", "это действие"),
    "ui.what_trainer": ("starting the background trainer", "запуск фонового обучения"),
    "ui.loading": ("Loading the model…", "Загрузка модели…"),
    "ui.training": (
        "training {model} in background: {fraction}{loss} (step {step} of {steps})",
        "обучение {model} в фоне: {fraction}{loss} (шаг {step} из {steps})",
    ),
    "ui.training_loss": (" — loss {loss}", " — потери {loss}"),
    "ui.next": ("next: {models}", "далее: {models}"),
    "ui.failed_side": (
        "⚠ background training of {model} failed: {why}",
        "⚠ фоновое обучение {model} не удалось: {why}",
    ),
    "ui.runs_folder": ("runs folder: `{path}`", "папка запусков: `{path}`"),
    "ui.wait_training": (
        "{line}. This page ({what}) fills in when it is done.",
        "{line}. Эта страница ({what}) заполнится, когда обучение закончится.",
    ),
    "ui.wait_queued": (
        "{model} is waiting for background training (now training: {current}); {what} works once it is done.",
        "{model} ждёт фонового обучения (сейчас обучается: {current}); {what} заработает, когда оно закончится.",
    ),
    "ui.wait_failed": (
        "Background training of {model} failed: {why}. Train it yourself with: `genlab train {model} --out {out}`",
        "Фоновое обучение {model} не удалось: {why}. Обучите модель сами: `genlab train {model} --out {out}`",
    ),
    "ui.wait_none": (
        "No finished {models} run in `{runs}` yet. Train it with: `genlab train {model}` "
        "(or start the studio without --no-train to train it in the background).",
        "В `{runs}` пока нет законченного запуска {models}. Обучите модель: `genlab train {model}` "
        "(или запустите студию без --no-train, и она обучит её в фоне).",
    ),
    "ui.sorry": (
        "Sorry, {what} failed ({error}). The studio keeps working; try other settings.",
        "Не получилось: {what} ({error}). Студия продолжает работать; попробуйте другие настройки.",
    ),
    "ui.digit_label": ("Held-out digit", "Цифра из отложенной выборки"),
    "ui.digit_class": ("{label}: class", "{label}: класс"),
    "ui.digit_example": ("{label}: example", "{label}: номер примера"),
    "ui.canvas_missing": (
        "Drawing needs the canvas component: pip install 'genlab[studio]'. Upload an image meanwhile.",
        "Для рисования нужен компонент холста: pip install 'genlab[studio]'. А пока загрузите изображение.",
    ),
    "ui.canvas_help": (
        "Draw one digit with the mouse, large and centred; the bin icon under the canvas clears it.",
        "Нарисуйте мышью одну цифру, крупно и по центру; значок корзины под холстом стирает рисунок.",
    ),
    # what each model is for, in the "not trained yet" messages
    "purpose.default": ("this page", "эта страница"),
    "purpose.text2image": ("Text to image", "«Текст → изображение»"),
    "purpose.clip": ("Image search and the zero-shot classifier", "поиск изображений и zero-shot классификатор"),
    "purpose.vae": ("the latent explorer and generators", "латентное пространство и генераторы"),
    "purpose.beta-vae": ("latent traversals", "обход латентных измерений"),
    "purpose.dae": ("the denoising demo", "демонстрация шумоподавления"),
    "purpose.ddpm": ("the diffusion viewer and generators", "диффузия по шагам и генераторы"),
    "purpose.dcgan": ("generators", "генераторы"),
    "purpose.stylegan": ("generators", "генераторы"),
    "purpose.ae": ("generators", "генераторы"),
    "purpose.protonet": ("few-shot", "обучение по нескольким примерам"),
    "purpose.dqn": ("reinforcement learning", "обучение с подкреплением"),
    # ------------------------------------------------------------------ errors (the studio's own, and known library ones)
    "err.prompt_empty": (
        "the prompt is empty; describe a digit, e.g. '{example}'",
        "запрос пуст; опишите цифру, например «{example}»",
    ),
    "err.prompt_long": (
        "the prompt is {n:,} characters long; keep it under {limit:,} (e.g. '{example}')",
        "запрос длиной {n:,} символов; нужно меньше {limit:,} (например, «{example}»)",
    ),
    "err.prompt_letters": (
        "the prompt {prompt} has no letters or digits this model reads; try e.g. '{example}'",
        "в запросе {prompt} нет букв или цифр, которые читает эта модель; попробуйте, например, «{example}»",
    ),
    "err.undrawable": (
        "the prompt {prompt} names no digit this model can draw{said}. It draws handwritten digits 0-9 "
        "(thin/bold, slanted left/right, small/large), e.g. '{example}'",
        "в запросе {prompt} нет цифры, которую эта модель умеет рисовать{said}. Она рисует рукописные цифры 0-9 "
        "(тонкие/жирные, с наклоном влево/вправо, маленькие/большие), например «{example}»",
    ),
    "err.unknown_words": ("; words it does not know: {words}", "; незнакомые ей слова: {words}"),
    "err.min_classes": (
        "write at least two class names, separated by commas (e.g. 'seven, one')",
        "напишите хотя бы два названия классов через запятую (например, «7, 1»)",
    ),
    "err.max_classes": (
        "use at most {n} class names of at most 100 characters each",
        "не больше {n} названий классов, каждое не длиннее 100 символов",
    ),
    "err.dup_classes": (
        "a class name appears twice; make them distinct",
        "название класса повторяется; сделайте их разными",
    ),
    "err.no_image": (
        "choose a held-out digit, draw a digit or upload an image first",
        "сначала выберите цифру из отложенной выборки, нарисуйте цифру или загрузите изображение",
    ),
    "err.upload_min": ("upload at least one image for {what}", "загрузите хотя бы одно изображение для {what}"),
    "err.upload_max": ("upload at most {n} images for {what}", "загрузите не больше {n} изображений для {what}"),
    "err.empty_file": (
        "{name} is empty; give a PNG or JPEG image",
        "{name} — пустой файл; нужно изображение PNG или JPEG",
    ),
    "err.unreadable": (
        "{name} is not a readable image ({why}); give a PNG or JPEG file",
        "{name} не читается как изображение ({why}); нужен файл PNG или JPEG",
    ),
    "err.too_big_mb": (
        "{name} is {size} MB; the studio takes images up to {limit} MB",
        "{name}: {size} МБ; студия принимает изображения до {limit} МБ",
    ),
    "err.too_big_bytes": (
        "{name} is {size} bytes, over the {limit}-byte limit; use a smaller image",
        "{name}: {size} байт, больше предела в {limit} байт; возьмите изображение поменьше",
    ),
    "err.too_big_pixels": (
        "{name} is {size} pixels, over the {limit}-pixel limit; use a smaller image",
        "{name}: {size} пикселей, больше предела в {limit} пикселей; возьмите изображение поменьше",
    ),
    "err.too_many_pixels": (
        "{name} has {shown} pixels; the studio takes images up to {side} pixels",
        "{name}: {shown} пикселей; студия принимает изображения до {side} пикселей",
    ),
    "err.too_many": ("too many", "слишком много"),
    "err.bomb": (
        "{name} has too many pixels (decompression bomb guard); use a smaller image",
        "{name}: слишком много пикселей (защита от «бомбы» распаковки); возьмите изображение поменьше",
    ),
    "err.not_file": ("{path} is not a file", "{path} — не файл"),
    "err.outside": (
        "{path} is outside the folders this studio may read ({allowed}); "
        "start it with 'genlab studio --folder DIR' to allow another folder",
        "{path} лежит вне папок, которые студии разрешено читать ({allowed}); "
        "чтобы разрешить другую папку, запустите её так: 'genlab studio --folder DIR'",
    ),
    "err.no_folder": ("give a folder path", "укажите путь к папке"),
    "err.no_images": (
        "no images (PNG/JPEG/...) under {folder}; nothing to index",
        "в {folder} нет изображений (PNG/JPEG/...); индексировать нечего",
    ),
    "err.library": ("{message}", "Ошибка: {message}"),
    # ------------------------------------------------------------------ text to image
    "t2i.title": ("Text to image", "Текст → изображение"),
    "t2i.intro": (
        "Describe a handwritten digit in English: its value (a word or a numeral), and optionally "
        "its stroke (bold / thin), slant (slanted left / right) or size (small / large). "
        "The prompt goes through a CLIP text encoder, a VAE decoder draws a base image and a GAN refiner sharpens it.",
        "Опишите рукописную цифру: её значение (словом или числом) и, если хотите, толщину штриха "
        "(жирная / тонкая), наклон (влево / вправо) или размер (маленькая / большая). Запрос проходит через "
        "текстовый энкодер CLIP, декодер VAE рисует базовое изображение, а GAN-доводчик делает его чётче.",
    ),
    "t2i.prompt": ("Prompt", "Запрос"),
    "t2i.prompt_default": ("a bold seven slanted right", "жирная 7 с наклоном вправо"),
    "t2i.prompt_example": ("a thin 4", "тонкая 4"),
    "t2i.prompt_help": (
        "e.g. 'a thin 4', 'the digit eight, small', 'a handwritten two slanted left'",
        "например: «тонкая 4», «маленькая 8», «рукописная 2 с наклоном влево»",
    ),
    "t2i.backend": ("Backend", "Способ генерации"),
    "t2i.backend_vae_gan": ("VAE + GAN refiner (fast)", "VAE + GAN-доводчик (быстро)"),
    "t2i.backend_diffusion": ("diffusion (slower)", "диффузия (медленнее)"),
    "t2i.n": ("Images", "Изображений"),
    "t2i.candidates": ("Candidates per image", "Кандидатов на изображение"),
    "t2i.candidates_help": (
        "draw K images per requested image and keep the ones CLIP finds closest to the prompt",
        "нарисовать K вариантов на каждое изображение и оставить те, что CLIP считает ближе всего к запросу",
    ),
    "t2i.stages": (
        "Show the stages (VAE base image, then refined)",
        "Показать этапы (базовое изображение VAE, затем доработанное)",
    ),
    "t2i.what": ("generating", "генерация"),
    "t2i.spinner": ("Generating…", "Генерация…"),
    "t2i.success": (
        "{n} images for “{prompt}” in {seconds:.2f} s (CLIP similarity to the prompt: best {best:.3f}, mean {mean:.3f})",
        "Изображений по запросу «{prompt}»: {n}, за {seconds:.2f} с (сходство с запросом по CLIP: лучшее {best:.3f}, среднее {mean:.3f})",
    ),
    "t2i.cap_base": ("stage 2: VAE base images", "этап 2: базовые изображения VAE"),
    "t2i.cap_refined": ("stage 3: refined by the GAN", "этап 3: доработаны GAN"),
    "t2i.cap_final": (
        "{backend} · best CLIP match first when candidates > 1",
        "{backend} · при кандидатах > 1 первым идёт лучшее совпадение по CLIP",
    ),
    "t2i.download": ("Download PNG", "Скачать PNG"),
    # ------------------------------------------------------------------ image search
    "search.title": ("Image search", "Поиск изображений"),
    "search.intro": (
        "Index a folder of images with the CLIP image encoder, then search it with words "
        "(“a bold seven”, “a small thin 0”) or with an example image. Results are ranked by cosine similarity.",
        "Проиндексируйте папку изображений энкодером изображений CLIP и ищите в ней словами "
        "(«жирная 7», «маленький тонкий 0») или по изображению-примеру. Результаты упорядочены по косинусному сходству.",
    ),
    "search.indexing_gallery": (
        "Indexing the held-out digits with CLIP…",
        "Индексация цифр отложенной выборки с помощью CLIP…",
    ),
    "search.source": ("Images to search", "Где искать"),
    "search.source_heldout": (
        "Held-out digits (1,000 never seen in training)",
        "Отложенные цифры (1 000, не виденных при обучении)",
    ),
    "search.source_folder": ("A folder", "Папка"),
    "search.folder": ("Folder", "Папка"),
    "search.folder_help": ("allowed: {roots} (and folders inside them)", "разрешены: {roots} (и вложенные папки)"),
    "search.build": ("Index this folder", "Проиндексировать папку"),
    "search.what_indexing": ("indexing", "индексация"),
    "search.embedding": ("Embedding the images…", "Вычисление эмбеддингов изображений…"),
    "search.indexed": (
        "Indexed {images} images ({embedded} embedded, {reused} unchanged, {skipped} unreadable skipped).",
        "Проиндексировано изображений: {images} (новых эмбеддингов: {embedded}, без изменений: {reused}, "
        "нечитаемых пропущено: {skipped}).",
    ),
    "search.press_build": ("Press “Index this folder” first.", "Сначала нажмите «Проиндексировать папку»."),
    "search.what_gallery": ("indexing the held-out digits", "индексация отложенных цифр"),
    "search.mode": ("Query by", "Искать по"),
    "search.mode_text": ("text", "тексту"),
    "search.mode_image": ("image", "изображению"),
    "search.text": ("Text query", "Текстовый запрос"),
    "search.text_default": ("a bold seven", "жирная 7"),
    "search.upload": ("Query image", "Изображение-запрос"),
    "search.k": ("Results (top-k)", "Число результатов (top-k)"),
    "search.go": ("Search", "Найти"),
    "search.what": ("the search", "поиск"),
    "search.need_upload": (
        "Upload an image to search with (PNG or JPEG).",
        "Загрузите изображение для поиска (PNG или JPEG).",
    ),
    "search.what_result": ("showing a result", "показ результата"),
    "search.top": ("Top {n}", "Лучшие {n}"),
    # ------------------------------------------------------------------ zero-shot
    "zs.title": ("Zero-shot classifier", "Zero-shot классификатор"),
    "zs.intro": (
        "CLIP was never trained to output classes: it scores how well the image matches "
        "sentences such as “a handwritten seven” built from the class names you write below, "
        "and turns the scores into probabilities.",
        "CLIP никогда не учили выдавать классы: он оценивает, насколько изображение подходит к фразам вроде "
        "«рукописная семёрка», составленным из названий классов, которые вы напишете ниже, и превращает "
        "оценки в вероятности.",
    ),
    "zs.run": (
        "CLIP model (a clip run, or the text encoder of a text2image run)",
        "Модель CLIP (запуск clip или текстовый энкодер запуска text2image)",
    ),
    "zs.source": ("Image", "Изображение"),
    "zs.source_heldout": ("A held-out digit", "Цифра из отложенной выборки"),
    "zs.source_draw": ("Draw a digit", "Нарисовать цифру"),
    "zs.source_upload": ("Upload an image", "Загрузить изображение"),
    "zs.upload": (
        "Image (PNG or JPEG; dark ink on light paper is fine)",
        "Изображение (PNG или JPEG; тёмные чернила на светлой бумаге подойдут)",
    ),
    "zs.classes": (
        "Class names (comma-separated; edit them freely)",
        "Названия классов (через запятую; меняйте как угодно)",
    ),
    "zs.classes_default": (
        "zero, one, two, three, four, five, six, seven, eight, nine",
        "0, 1, 2, 3, 4, 5, 6, 7, 8, 9",
    ),
    "zs.template": (
        "Prompt template (optional, {{}} is replaced by the class name)",
        "Шаблон фразы (необязательно, {{}} заменяется названием класса)",
    ),
    "zs.template_help": (
        "leave empty for an ensemble of templates such as 'a handwritten {{}}' and 'the digit {{}}'",
        "оставьте пустым, чтобы взять набор шаблонов вроде «рукописная {{}}» и «цифра {{}}»",
    ),
    "zs.input": ("input (28 x 28, as the model sees it)", "вход (28 x 28, как его видит модель)"),
    "zs.prediction": ("Prediction", "Ответ"),
    "zs.probability_of": ("{p:.0%} probability", "вероятность {p:.0%}"),
    "zs.probability": ("probability", "вероятность"),
    # ------------------------------------------------------------------ latent explorer
    "lat.title": ("Latent explorer", "Латентное пространство"),
    "lat.intro": (
        "An autoencoder squeezes each 28 x 28 digit into a short code and draws it back. "
        "Move through that code space and see what the decoder makes of it.",
        "Автоэнкодер сжимает каждую цифру 28 x 28 в короткий код и рисует её обратно. "
        "Двигайтесь по пространству кодов и смотрите, что из них делает декодер.",
    ),
    "lat.tab_interp": ("Interpolation (VAE)", "Интерполяция (VAE)"),
    "lat.tab_trav": ("Latent traversal (beta-VAE)", "Обход измерений (beta-VAE)"),
    "lat.tab_dae": ("Denoising (DAE)", "Шумоподавление (DAE)"),
    "lat.what_interp": ("the interpolation", "интерполяция"),
    "lat.start": ("Start", "Начало"),
    "lat.end": ("End", "Конец"),
    "lat.path": ("Path", "Путь"),
    "lat.path_linear": ("linear", "по прямой"),
    "lat.path_slerp": ("slerp", "по дуге (slerp)"),
    "lat.path_help": (
        "slerp follows a great circle, which keeps codes at a typical distance from the origin",
        "slerp идёт по большой окружности и держит коды на типичном расстоянии от начала координат",
    ),
    "lat.t": ("Position between the two digits", "Положение между двумя цифрами"),
    "lat.cap_t": ("start · decoded at t = {t:.2f} · end", "начало · декодировано при t = {t:.2f} · конец"),
    "lat.cap_path": ("the whole path, t = 0 … 1", "весь путь, t = 0 … 1"),
    "lat.what_trav": ("the traversal", "обход измерений"),
    "lat.trav_caption": (
        "{name} (beta = {beta:g}): the {n} most used latent dimensions",
        "{name} (beta = {beta:g}): {n} самых используемых латентных измерений",
    ),
    "lat.cap_trav": ("original · decoded with your code", "оригинал · декодировано из вашего кода"),
    "lat.what_dae": ("the denoising demo", "демонстрация шумоподавления"),
    "lat.noise": (
        "Noise (standard deviation added to every pixel)",
        "Шум (стандартное отклонение, добавляемое к каждому пикселю)",
    ),
    "lat.noise_seed": ("Noise seed", "Зерно шума"),
    "lat.cap_dae": (
        "rows: noisy input · the DAE's output · the clean digit",
        "строки: зашумлённый вход · выход DAE · чистая цифра",
    ),
    # ------------------------------------------------------------------ generators
    "gen.title": ("Generators", "Генераторы"),
    "gen.intro": (
        "The same request — “draw new digits” — answered by every generative model trained so far. "
        "Diffusion needs several network passes per image (15 with DPM-Solver++, 1,000 with the book's DDPM); a GAN needs one.",
        "Одна и та же просьба — «нарисуй новые цифры» — и ответы всех уже обученных генеративных моделей. "
        "Диффузии нужно несколько проходов сети на изображение (15 с DPM-Solver++, 1 000 у DDPM из учебника); GAN — один.",
    ),
    "gen.n": ("Images per model", "Изображений на модель"),
    "gen.steps": ("Sampler steps (diffusion)", "Шаги сэмплера (диффузия)"),
    "gen.steps_help": (
        "the network passes per image; the book's DDPM takes 1,000",
        "проходов сети на изображение; у DDPM из учебника их 1 000",
    ),
    "gen.what": ("sampling {model}", "сэмплирование {model}"),
    "gen.cap": ("{model} — {ms:.0f} ms{extra}", "{model} — {ms:.0f} мс{extra}"),
    "gen.cap_ddim": (", {sampler}, {steps} steps", ", {sampler}, шагов: {steps}"),
    "gen.col_model": ("model", "модель"),
    "gen.col_run": ("run", "запуск"),
    "gen.quality": (
        "Quality at the end of training (held-out evaluator)",
        "Качество в конце обучения (оценщик на отложенных данных)",
    ),
    "gen.quality_help": (
        "FID: lower is better; precision: realism; recall: variety; coverage: how many of the 10 digits appear.",
        "FID: чем меньше, тем лучше; precision — реалистичность; recall — разнообразие; "
        "coverage — сколько из 10 цифр встречается.",
    ),
    # ------------------------------------------------------------------ diffusion viewer
    "dif.title": ("Diffusion viewer", "Диффузия по шагам"),
    "dif.intro": (
        "Forward: x_t = sqrt(ᾱ_t)·x_0 + sqrt(1 − ᾱ_t)·ε adds a little Gaussian noise at each of T steps. "
        "Reverse: the U-Net predicts the noise and a sampler removes it, step by step, starting from pure noise.",
        "Прямой процесс: x_t = sqrt(ᾱ_t)·x_0 + sqrt(1 − ᾱ_t)·ε добавляет немного гауссова шума на каждом из T шагов. "
        "Обратный: U-Net предсказывает шум, а сэмплер убирает его шаг за шагом, начиная с чистого шума.",
    ),
    "dif.forward": ("Forward process (noising a real digit)", "Прямой процесс (зашумление настоящей цифры)"),
    "dif.t": ("Step t", "Шаг t"),
    "dif.what_noise": ("noising", "зашумление"),
    "dif.cap_forward": ("x_0, then t = 0 … {last} in 10 even steps", "x_0, затем t = 0 … {last} за 10 равных шагов"),
    "dif.reverse": ("Reverse process (generating from noise)", "Обратный процесс (генерация из шума)"),
    "dif.digit": ("Digit", "Цифра"),
    "dif.any": ("any digit", "любая цифра"),
    "dif.steps": ("Sampler steps", "Шаги сэмплера"),
    "dif.sampler": ("Sampler", "Сэмплер"),
    "dif.sampler_help": (
        "DPM-Solver++(2M): a second-order solver, few steps; DDIM: the first-order one; "
        "DDPM: the book's ancestral sampler, one step per training timestep",
        "DPM-Solver++(2M): решатель второго порядка, мало шагов; DDIM: решатель первого порядка; "
        "DDPM: предковый сэмплер из учебника, по шагу на каждый шаг обучения",
    ),
    "dif.go": ("Denoise from pure noise", "Очистить чистый шум"),
    "dif.what_sample": ("sampling", "сэмплирование"),
    "dif.spinner": ("Sampling…", "Сэмплирование…"),
    "dif.i": ("Sampler step", "Шаг сэмплера"),
    "dif.cap_i": ("after step {i} of {n}", "после шага {i} из {n}"),
    "dif.cap_traj": ("from noise (left) to digit (right)", "от шума (слева) к цифре (справа)"),
    # ------------------------------------------------------------------ reinforcement learning
    "rl.title": ("Reinforcement learning", "Обучение с подкреплением"),
    "rl.intro": (
        "An agent learns by trial and error which action to take in each state to collect "
        "the most reward. Here it plays with its greedy policy (always the action it rates best).",
        "Агент методом проб и ошибок учится, какое действие выбирать в каждом состоянии, чтобы собрать "
        "наибольшую награду. Здесь он играет жадной стратегией (всегда действие с лучшей оценкой).",
    ),
    "rl.run": ("Agent run", "Запуск агента"),
    "rl.caption": ("{name} on {env}", "{name} в среде {env}"),
    "rl.mean_return": (
        " — mean return over its final evaluation: {r:.1f}",
        " — средняя отдача на итоговой оценке: {r:.1f}",
    ),
    "rl.frames": ("Longest animation (frames)", "Самая длинная анимация (кадров)"),
    "rl.play": ("Play an episode", "Сыграть эпизод"),
    "rl.what": ("playing the episode", "игра эпизода"),
    "rl.spinner": ("Playing…", "Игра…"),
    "rl.cap": ("return {ret:g} in {n} frames", "отдача {ret:g} за {n} кадров"),
    "rl.curve": ("Learning curve", "Кривая обучения"),
    "rl.col_return": ("episode return", "отдача эпизода"),
    "rl.col_mean": ("mean of the last 100", "среднее за последние 100"),
    "rl.col_episode": ("training episode", "эпизод обучения"),
    "rl.no_episodes": (
        "This run recorded no finished training episodes.",
        "В этом запуске нет ни одного законченного эпизода обучения.",
    ),
    # ------------------------------------------------------------------ few-shot
    "fs.title": ("Few-shot", "Обучение по нескольким примерам"),
    "fs.intro": (
        "An N-way K-shot episode: N new classes with K labelled examples each (the support set); the model "
        "must label new images (the queries). Prototypical networks compare a query with the mean embedding of each class.",
        "Эпизод N-way K-shot: N новых классов по K размеченных примеров в каждом (опорное множество); модель "
        "должна разметить новые изображения (запросы). Прототипические сети сравнивают запрос со средним "
        "эмбеддингом каждого класса.",
    ),
    "fs.tab_omni": ("Held-out Omniglot alphabets", "Отложенные алфавиты Omniglot"),
    "fs.tab_own": ("Your own images", "Ваши изображения"),
    "fs.ways": ("Classes (N-way)", "Классов (N-way)"),
    "fs.shots": ("Examples per class (K-shot)", "Примеров на класс (K-shot)"),
    "fs.go": ("New episode", "Новый эпизод"),
    "fs.what": ("the episode", "эпизод"),
    "fs.spinner": ("Drawing an episode…", "Составление эпизода…"),
    "fs.correct": ("Correct answers", "Верных ответов"),
    "fs.correct_value": ("{right} of {n}", "{right} из {n}"),
    "fs.cap_support": (
        "support set: one row per class (0 … {last}), {shots} example(s) each",
        "опорное множество: по строке на класс (0 … {last}), примеров в каждом: {shots}",
    ),
    "fs.right": ("✓", "✓"),
    "fs.wrong": ("✗ (is {y})", "✗ (на самом деле {y})"),
    "fs.cap_answer": ("answer: class {p} {mark} · {prob:.0%}", "ответ: класс {p} {mark} · {prob:.0%}"),
    "fs.own_help": (
        "Upload a few images per class (PNG or JPEG; dark ink on light paper is fine), then the images to classify.",
        "Загрузите по нескольку изображений на класс (PNG или JPEG; тёмные чернила на светлой бумаге подойдут), "
        "затем изображения, которые нужно классифицировать.",
    ),
    "fs.n_classes": ("Number of classes", "Число классов"),
    "fs.class_name": ("Class name", "Название класса"),
    "fs.class_default": ("class {i}", "класс {i}"),
    "fs.examples": ("Examples", "Примеры"),
    "fs.queries": ("Images to classify", "Изображения для классификации"),
    "fs.queries_what": ("the images to classify", "классифицируемых изображений"),
    "fs.class_what": ("'{name}'", "«{name}»"),
    "fs.cap_own": ("{name} · {prob:.0%}", "{name} · {prob:.0%}"),
    # ------------------------------------------------------------------ runs
    "runs.title": ("Runs", "Запуски"),
    "runs.intro": (
        "Every training run in the runs folder: its held-out metrics, training curves and pictures. "
        "Pick two to compare them.",
        "Все запуски обучения в папке запусков: метрики на отложенных данных, кривые обучения и картинки. "
        "Выберите два, чтобы сравнить.",
    ),
    "runs.none": (
        "No runs in `{runs}` yet. Train one with, e.g., `genlab train vae` (quick preset, a minute or two).",
        "В `{runs}` пока нет запусков. Обучите модель, например `genlab train vae` (пресет quick, минута-другая).",
    ),
    "runs.col_run": ("run", "запуск"),
    "runs.col_model": ("model", "модель"),
    "runs.col_step": ("step", "шаг"),
    "runs.col_status": ("status", "состояние"),
    "runs.col_metrics": ("metrics", "метрики"),
    "runs.col_value": ("value", "значение"),
    "runs.finished": ("finished", "закончен"),
    "runs.unfinished": ("in progress or stopped", "идёт или остановлен"),
    "runs.tab_one": ("One run", "Один запуск"),
    "runs.tab_two": ("Compare two", "Сравнить два"),
    "runs.what_read": ("reading the run", "чтение запуска"),
    "runs.model_preset": ("model {model} · preset {preset}", "модель {model} · пресет {preset}"),
    "runs.curves": ("Curves", "Кривые"),
    "runs.picture": ("Picture", "Картинка"),
    "runs.first": ("First run", "Первый запуск"),
    "runs.second": ("Second run", "Второй запуск"),
    "runs.what_compare": ("comparing", "сравнение"),
    "runs.no_shared": (
        "These runs share no held-out metric (different model families, or unfinished).",
        "У этих запусков нет общих метрик (разные семейства моделей или обучение не закончено).",
    ),
    "runs.loss": ("{run} loss", "{run}: потери"),
    "runs.samples": ("{run}: samples", "{run}: примеры"),
}

#: messages raised by genlab's library code (English) -> the catalogue message that says the same;
#: the first pattern that matches wins, its named groups fill the placeholders
LIBRARY_ERRORS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^the prompt is empty"), "err.prompt_empty"),
    (re.compile(r"^the prompt is (?P<n>[\d,]+) characters long; keep it under (?P<limit>[\d,]+)"), "err.prompt_long"),
    (re.compile(r"^the prompt (?P<prompt>.+) has no (?:Latin )?letters or digits"), "err.prompt_letters"),
    (
        re.compile(
            r"^the prompt (?P<prompt>.+?) names no digit this model can draw(; words it does not know: (?P<words>.+?))?\. It draws"
        ),
        "err.undrawable",
    ),
    (re.compile(r"^(?P<name>.+) is empty; give a PNG or JPEG image$"), "err.empty_file"),
    (re.compile(r"^(?P<name>.+) is not a readable image \((?P<why>[^)]*)\)"), "err.unreadable"),
    (
        re.compile(r"^(?P<name>.+?) is (?P<size>[\d.]+) MB; the studio takes images up to (?P<limit>[\d.]+) MB$"),
        "err.too_big_mb",
    ),
    (re.compile(r"^(?P<name>.+?) is (?P<size>\d+) bytes, over the (?P<limit>\d+)-byte limit"), "err.too_big_bytes"),
    (
        re.compile(r"^(?P<name>.+?) is (?P<size>\d+x\d+) pixels, over the (?P<limit>[\d,]+)-pixel limit"),
        "err.too_big_pixels",
    ),
    (
        re.compile(r"^(?P<name>.+?) has (?P<shown>.+) pixels; the studio takes images up to (?P<side>.+) pixels$"),
        "err.too_many_pixels",
    ),
    (re.compile(r"^(?P<name>.+?) has too many pixels \(decompression bomb guard\)"), "err.bomb"),
    (re.compile(r"^(?P<path>.+) is outside the folders this studio may read \((?P<allowed>[^)]*)\)"), "err.outside"),
    (re.compile(r"^give a folder path$"), "err.no_folder"),
    (re.compile(r"^(?P<path>.+) is not a file$"), "err.not_file"),
    (re.compile(r"^no images \(PNG/JPEG/\.\.\.\) under (?P<folder>\S+); nothing to index"), "err.no_images"),
]


def current() -> str:
    """The session's language; English outside a running Streamlit script."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:
            return DEFAULT
        import streamlit as st

        lang = st.session_state.get(STATE_KEY, DEFAULT)
    except Exception:  # noqa: BLE001 - no Streamlit, or no session: the default language
        return DEFAULT
    return lang if lang in LANGS else DEFAULT


def t(key: str, lang: str | None = None, **kw) -> str:
    """The message ``key`` in ``lang`` (default: the session's language), placeholders filled from ``kw``."""
    text = MESSAGES[key][list(LANGS).index(lang or current())]
    return text.format(**kw) if kw else text.format()


def digit_name(k: int, lang: str | None = None) -> str:
    """The word for digit ``k`` (0-9) in the language."""
    return t("common.digits", lang).split(",")[k]


def error_text(message: str, lang: str | None = None) -> str:
    """A GenlabError's message in the language: in English the library's own words; in another
    language the catalogue's phrasing of a known library message, else the library's words under
    a translated heading."""
    lang = lang or current()
    if lang == DEFAULT:
        return message
    for pattern, key in LIBRARY_ERRORS:
        m = pattern.search(message)
        if m is None:
            continue
        fields = {k: v for k, v in m.groupdict().items() if v is not None}
        for name in ("n", "limit"):
            if key == "err.prompt_long" and name in fields:
                fields[name] = int(fields[name].replace(",", ""))
        if fields.get("shown") == t("err.too_many", DEFAULT):
            fields["shown"] = t("err.too_many", lang)
        if "example" in MESSAGES[key][0]:
            fields["example"] = t("t2i.prompt_example", lang)
        if "{said}" in MESSAGES[key][0]:
            words = fields.pop("words", None)
            fields["said"] = t("err.unknown_words", lang, words=words) if words else ""
        return t(key, lang, **fields)
    return t("err.library", lang, message=message)


def choose_language() -> str:
    """The sidebar's language switch; the first choice comes from ``?lang=ru``. Returns the language."""
    import streamlit as st

    if STATE_KEY not in st.session_state:
        asked = st.query_params.get(STATE_KEY, DEFAULT)
        st.session_state[STATE_KEY] = asked if asked in LANGS else DEFAULT
    lang = st.sidebar.selectbox(t("app.language"), list(LANGS), format_func=LANGS.get, key=STATE_KEY)
    if st.query_params.get(STATE_KEY, DEFAULT) != lang:
        st.query_params[STATE_KEY] = lang
    return lang


def english_phrases() -> list[str]:
    """Pieces of English catalogue text a Russian page must not show: each message's literal parts
    (between placeholders and quotes) of two words or more, where the Russian text differs."""
    out = set()
    for key, (en, ru) in MESSAGES.items():
        if en == ru or key in ("common.digits", "zs.classes_default"):  # model vocabulary, not UI text
            continue
        for literal, *_ in string.Formatter().parse(en):
            for part in re.split(r"[`'“”«»()]", literal):
                part = part.strip(" .,:;—·-")
                if len(part.split()) >= 2 and part not in ru:
                    out.add(part)
    return sorted(out)


def untranslated(text: str) -> list[str]:
    """The English catalogue phrases (see :func:`english_phrases`) that ``text`` still contains."""
    return [p for p in english_phrases() if p in text]
